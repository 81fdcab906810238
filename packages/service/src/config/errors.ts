/** One bad or missing variable: its name and the full line shown to the operator. */
export interface ConfigProblem {
  readonly variable: string;
  readonly message: string;
}

/**
 * The environment does not describe a runnable app. `message` has one line per problem, each naming
 * the variable and saying what is expected; values of secret variables never appear in it.
 */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  readonly problems: readonly ConfigProblem[];

  constructor(problems: readonly ConfigProblem[]) {
    super(problems.map((p) => p.message).join('\n'));
    this.problems = problems;
  }
}

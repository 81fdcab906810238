import { readFileSync } from 'node:fs';

/**
 * Splits a SQL script into statements on `;`, outside quotes and comments; drops the comments
 * (including MySQL `/*!NNNNN … *\/` version comments, which MariaDB would run against its own
 * version number).
 */
export function splitSqlStatements(sql: string): string[] {
  const statements: string[] = [];
  let current = '';
  let i = 0;
  while (i < sql.length) {
    const ch = sql[i]!;
    const next = sql[i + 1];
    if (ch === '-' && next === '-' && /\s/.test(sql[i + 2] ?? ' ')) {
      while (i < sql.length && sql[i] !== '\n') i++;
      continue;
    }
    if (ch === '#') {
      while (i < sql.length && sql[i] !== '\n') i++;
      continue;
    }
    if (ch === '/' && next === '*') {
      const end = sql.indexOf('*/', i + 2);
      i = end === -1 ? sql.length : end + 2;
      current += ' ';
      continue;
    }
    if (ch === "'" || ch === '"' || ch === '`') {
      let j = i + 1;
      while (j < sql.length) {
        if (sql[j] === '\\' && ch !== '`') {
          j += 2;
          continue;
        }
        if (sql[j] === ch) {
          if (sql[j + 1] === ch) {
            j += 2;
            continue;
          }
          break;
        }
        j++;
      }
      current += sql.slice(i, j + 1);
      i = j + 1;
      continue;
    }
    if (ch === ';') {
      if (current.trim()) statements.push(current.trim());
      current = '';
      i++;
      continue;
    }
    current += ch;
    i++;
  }
  if (current.trim()) statements.push(current.trim());
  return statements;
}

/** MySQL 8 syntax MariaDB 10.11 does not take, rewritten to what it means there. */
export function adaptForMariaDb(statement: string): string {
  return (
    statement
      // MySQL 8's default collation names.
      .replace(/utf8mb4_0900_[a-z_]+/gi, 'utf8mb4_unicode_ci')
      // Invisible indexes / columns are a MySQL 8 feature; every index is visible in MariaDB.
      .replace(/\)\s+(?:VISIBLE)\b/gi, ')')
  );
}

/** A SQL file as a list of statements ready for MariaDB, to run one by one. */
export function loadSqlFile(path: string): string[] {
  return splitSqlStatements(readFileSync(path, 'utf8')).map(adaptForMariaDb);
}

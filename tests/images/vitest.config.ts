import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    pool: 'forks',
    fileParallelism: false,
    testTimeout: 60_000,
    // Building the images: the local base (first run) and every image.
    hookTimeout: 280_000,
  },
});

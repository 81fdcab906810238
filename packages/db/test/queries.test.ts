import { describe } from 'vitest';
import { schemaSql } from '../src/index.js';
import { useDatabase, useMysql } from './support/fixture.js';
import { defineQuerySuite } from './support/query-suite.js';

const mysql = useMysql();

describe('queries on a database created from schema.sql', () => {
  defineQuerySuite(useDatabase(mysql, () => schemaSql()));
});

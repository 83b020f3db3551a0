import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { it } from 'node:test';
import { dialectJsonSchema } from '../../src/dialect/json-schema.js';

it('ships a JSON Schema for dialect files that matches the zod schema', () => {
  const shipped = JSON.parse(
    readFileSync(new URL('../../schema/dialect.schema.json', import.meta.url), 'utf8'),
  );
  assert.deepEqual(
    shipped,
    JSON.parse(JSON.stringify(dialectJsonSchema())),
    'run npm run build to regenerate it',
  );
  assert.ok(shipped.properties.modes, 'describes modes');
  assert.deepEqual(shipped.required, ['name']);
});

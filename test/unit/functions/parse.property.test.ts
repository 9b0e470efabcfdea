/**
 * For any event, parsing yields the typed input or Kiln.InputInvalid, never anything else (middy's rule for
 * parsers), so a malformed event can never reach an AWS call or crash a handler with a TypeError.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { InputInvalidError } from '../../../core/errors.ts';
import { finalizeInputSchema } from '../../../functions/common/finalize/finalize.ts';
import { normalizeInput, prepareInputSchema } from '../../../functions/common/prepare-build/input.ts';
import { stagePayloadSchema } from '../../../functions/lib/build-state.ts';
import { parseEvent } from '../../../functions/lib/wiring.ts';

const schemas = [
  ['stage payload', stagePayloadSchema],
  ['PrepareBuild input', prepareInputSchema],
  ['Finalize input', finalizeInputSchema],
] as const;

describe('event parsing', () => {
  it.each(schemas)('%s: any JSON value parses or fails with Kiln.InputInvalid', (_name, schema) => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        try {
          parseEvent(schema, value);
        } catch (err) {
          expect(err).toBeInstanceOf(InputInvalidError);
          expect((err as Error).message).toMatch(/^The function input is not valid: /);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('normalizes any well-formed S3 event into a template location', () => {
    const key = fc.string({ minLength: 1, maxLength: 40 });
    fc.assert(
      fc.property(key, fc.option(fc.string({ minLength: 1 }), { nil: undefined }), (k, version) => {
        const event = parseEvent(prepareInputSchema, {
          executionName: 'e',
          input: {
            'detail-type': 'Object Created',
            detail: {
              bucket: { name: 'b' },
              object: { key: encodeURIComponent(k), ...(version ? { 'version-id': version } : {}) },
            },
          },
        });
        const request = normalizeInput(event.input);
        // Decoded as AWS encodes (encodeURIComponent here); the raw key is kept whenever decoding changed it.
        expect(request.template.key).toBe(k);
        expect(request.rawKey).toBe(encodeURIComponent(k) === k ? undefined : encodeURIComponent(k));
        expect(request.template.versionId).toBe(version);
      }),
      { numRuns: 200 },
    );
  });
});

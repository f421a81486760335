import fs from 'node:fs';
import path from 'node:path';
import { AppError, ERROR_CODES, toWire, ValidationError } from '.';

describe('error catalogue', () => {
	const doc = fs.readFileSync(path.resolve(__dirname, '..', '..', 'docs', 'ERRORS.md'), 'utf8');

	test.each(Object.entries(ERROR_CODES))('%s is documented in docs/ERRORS.md with its status', (code, { status }) => {
		expect(doc).toMatch(new RegExp(`^\\| \`${code}\` \\| ${status} \\|`, 'm'));
	});

	test('toWire maps an AppError to its status, code and message', () => {
		expect(toWire(new ValidationError('roomId: expected a string', { field: 'roomId' }))).toEqual({
			status: 400,
			error: { code: 'validation_failed', message: 'roomId: expected a string', details: { field: 'roomId' } },
		});
		expect(toWire(new AppError('not_ready')).status).toBe(503);
	});

	test('toWire never passes on the text of an unexpected error', () => {
		const wire = toWire(new TypeError("Cannot read properties of undefined (reading 'secret')"));
		expect(wire).toEqual({ status: 500, error: { code: 'internal', message: 'internal error' } });
	});
});

import fs from 'node:fs';
import path from 'node:path';
import { ERROR_CODES } from '../../src/errors';
import { requests, serverEvents } from '../../src/signaling/protocol';

const doc = fs.readFileSync(path.resolve(__dirname, '..', '..', 'docs', 'protocol.md'), 'utf8');

describe('docs/protocol.md', () => {
	test.each([...Object.keys(requests), ...Object.keys(serverEvents)])('documents %s under its own heading', (name) => {
		expect(doc).toMatch(new RegExp(`^### \`${name.replace('.', '\\.')}\`$`, 'm'));
	});

	test('every error code it names after "Errors" exists', () => {
		const named = [...doc.matchAll(/Errors(?: for [^:]+)?:([^.]*(?:\([^)]*\)[^.]*)*)\./g)]
			.flatMap((m) => [...m[1]!.matchAll(/`([a-z_]+)`/g)].map((c) => c[1]!));
		expect(named.length).toBeGreaterThan(10);
		expect(named.filter((code) => !(code in ERROR_CODES))).toEqual([]);
	});
});

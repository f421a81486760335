import fs from 'node:fs';
import path from 'node:path';
import { ERROR_CODES } from '../../src/errors';
import { requests, serverEvents } from '../../src/signaling/protocol';

const doc = fs.readFileSync(path.resolve(__dirname, '..', '..', 'docs', 'protocol.md'), 'utf8');
const lines = doc.split(/\r?\n/);

const requestNames = Object.keys(requests);
const eventNames = Object.keys(serverEvents);

/** The names of the "### `name`" headings, in document order. */
const headings = lines.flatMap((line) => {
	const match = /^### `([^`]+)`$/.exec(line);
	return match ? [match[1]!] : [];
});

/** The lines of the section under "### `name`", up to the next heading of any level. */
function section(name: string): string[] {
	const start = lines.indexOf(`### \`${name}\``);
	if (start < 0) {
		return [];
	}
	const end = lines.findIndex((line, i) => i > start && /^#{1,3} /.test(line));
	return lines.slice(start + 1, end < 0 ? undefined : end);
}

/** The codes quoted as `code` on every line that starts with "Errors:". */
const namedCodes = lines
	.filter((line) => line.startsWith('Errors:'))
	.flatMap((line) => [...line.matchAll(/`([^`]+)`/g)].map((m) => m[1]!));

describe('docs/protocol.md', () => {
	test.each(requestNames)('has a heading for the request %s', (name) => {
		expect(lines).toContain(`### \`${name}\``);
	});

	test.each(eventNames)('has a heading for the server event %s', (name) => {
		expect(lines).toContain(`### \`${name}\``);
	});

	test('documents requests and server events in the order protocol.ts declares them', () => {
		expect(headings.filter((name) => requestNames.includes(name))).toEqual(requestNames);
		expect(headings.filter((name) => eventNames.includes(name))).toEqual(eventNames);
	});

	test('has no heading for a request or event the protocol does not have', () => {
		expect(headings.filter((name) => !requestNames.includes(name) && !eventNames.includes(name))).toEqual([]);
	});

	test.each(requestNames)('lists the errors of %s on an "Errors:" line', (name) => {
		expect(section(name).filter((line) => line.startsWith('Errors:'))).toHaveLength(1);
	});

	test('names only error codes that exist on its "Errors:" lines', () => {
		// Guards against a parser that silently finds nothing.
		expect(namedCodes.length).toBeGreaterThan(requestNames.length);
		expect(namedCodes.filter((code) => !Object.prototype.hasOwnProperty.call(ERROR_CODES, code))).toEqual([]);
	});
});

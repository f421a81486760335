import { safeNext } from '../../src/web/client/accounts/nextPage';

const origin = 'https://call.example.org';

describe("the sign-in page's ?next= (safeNext): pages of this node only", () => {
	test.each([
		['/directory', `${origin}/directory`],
		['/directory?q=fa', `${origin}/directory?q=fa`],
		['/u/ada#calls', `${origin}/u/ada#calls`],
		['/settings?next=//evil.example', `${origin}/settings?next=//evil.example`],
		[`${origin}/history`, `${origin}/history`],
		// Same scheme, no slashes: a relative path on this node, as the browser reads it.
		['https:evil.example', `${origin}/evil.example`],
	])('%j goes to %s', (next, expected) => {
		expect(safeNext(next, origin)).toBe(expected);
	});

	test.each([
		null,
		'',
		'//evil.example',
		'///evil.example',
		'https://evil.example',
		'https://call.example.org.evil.example/',
		'http://call.example.org/directory',
		'/\\evil.example',
		'\\\\evil.example',
		'/\\/evil.example',
		// ?next=/%09/evil.example: URLSearchParams decodes the tab; the URL parser drops it.
		'/\t/evil.example',
		'/\n/evil.example',
		'/\r\n/evil.example',
		'\t//evil.example',
		' //evil.example',
		'javascript:alert(1)',
		'JavaScript:alert(1)',
		'data:text/html,<script>alert(1)</script>',
		'//call.example.org@evil.example',
		'https://call.example.org@evil.example/',
	])('%j goes to the directory', (next) => {
		expect(safeNext(next, origin)).toBe('/directory');
	});

	test('what the page reads from location.search, as the browser decodes it', () => {
		const read = (search: string) => new URLSearchParams(search).get('next');
		expect(safeNext(read('?next=/%09/evil.example'), origin)).toBe('/directory');
		expect(safeNext(read('?next=/%5Cevil.example'), origin)).toBe('/directory');
		expect(safeNext(read('?next=%2F%2Fevil.example'), origin)).toBe('/directory');
		expect(safeNext(read(`?next=${encodeURIComponent('/directory?q=fa')}`), origin)).toBe(`${origin}/directory?q=fa`);
	});

	test('a path that normalises to two slashes stays on this node: the answer is absolute', () => {
		const to = new URL(safeNext('/.//evil.example', origin));
		expect(to.origin).toBe(origin);
		expect(to.pathname).toBe('//evil.example');
	});
});

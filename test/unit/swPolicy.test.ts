import { handlingOf, OFFLINE_PAGE, PRECACHED } from '../../src/web/client/sw/policy';

// The service worker's choices (src/web/client/sw/policy.ts): it answers pages
// and assets of its own origin, network first, and never touches the API,
// signaling, health or metrics.

const origin = 'https://media.example.org';
const get = (pathname: string, mode = 'no-cors') => handlingOf({ method: 'GET', url: `${origin}${pathname}`, mode, origin });

test('pages are the navigations of this origin, the offline page their fallback', () => {
	expect(get('/', 'navigate')).toBe('page');
	expect(get('/room/standup?name=Ada', 'navigate')).toBe('page');
	expect(get('/directory', 'navigate')).toBe('page');
	expect(PRECACHED).toContain(OFFLINE_PAGE);
});

test('assets are what /assets/ holds, whatever fetched them', () => {
	for (const mode of ['no-cors', 'cors', 'same-origin']) {
		expect(get('/assets/room.js', mode)).toBe('asset');
	}
	expect(get('/assets/icons/icon-192.png')).toBe('asset');
});

test('the API, signaling, health, metrics and the worker\'s own script pass by, even as navigations', () => {
	for (const pathname of ['/api/me', '/api', '/socket.io/?EIO=4&transport=polling', '/healthz', '/readyz', '/metrics', '/assets/sw.js']) {
		expect([pathname, get(pathname)]).toEqual([pathname, 'pass']);
		expect([pathname, get(pathname, 'navigate')]).toEqual([pathname, 'pass']);
	}
});

test('other methods, other origins and other paths pass by', () => {
	expect(handlingOf({ method: 'POST', url: `${origin}/assets/room.js`, mode: 'cors', origin })).toBe('pass');
	expect(handlingOf({ method: 'HEAD', url: `${origin}/`, mode: 'navigate', origin })).toBe('pass');
	expect(handlingOf({ method: 'GET', url: 'https://other.example.org/assets/room.js', mode: 'no-cors', origin })).toBe('pass');
	expect(handlingOf({ method: 'GET', url: 'https://other.example.org/', mode: 'navigate', origin })).toBe('pass');
	expect(get('/favicon.ico')).toBe('pass');
	// A path that only starts like one of the API's is still a page.
	expect(get('/apis', 'navigate')).toBe('page');
});

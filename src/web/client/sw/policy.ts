/**
 * What the service worker does with a request, kept apart from the worker's
 * events so a unit test can read it. Network first, always: a page or bundle
 * comes from the node whenever the node answers, so an upgraded node never
 * finds an old bundle pinned in a cache (its protocol check would refuse it).
 * The cache holds only what the offline page needs.
 */
export type Handling =
	/** A page: from the network; the offline page when the node cannot be reached. */
	| 'page'
	/** A static asset: from the network; the cached copy, if there is one, when offline. */
	| 'asset'
	/** Left to the browser: the worker does not answer it. */
	| 'pass';

/** The offline page (src/web/routes.ts), and what it shows: cached when the worker installs. */
export const OFFLINE_PAGE = '/assets/offline.html';
export const PRECACHED = [OFFLINE_PAGE, '/assets/app.css', '/assets/icons/icon.svg'] as const;

/** Never through the worker: the API, signaling, health and metrics, and the worker's own script. */
const NEVER = [/^\/api(\/|$)/, /^\/socket\.io(\/|$)/, /^\/(healthz|readyz|metrics)$/, /^\/assets\/sw\.js$/];

export type RequestFacts = { method: string; url: string; mode: string; origin: string };

export function handlingOf({ method, url, mode, origin }: RequestFacts): Handling {
	const target = new URL(url);
	if (method !== 'GET' || target.origin !== origin || NEVER.some((path) => path.test(target.pathname))) {
		return 'pass';
	}
	if (mode === 'navigate') {
		return 'page';
	}
	return target.pathname.startsWith('/assets/') ? 'asset' : 'pass';
}

/**
 * The web client's service worker (/assets/sw.js, scope /): makes the client
 * installable and shows a clear page when the node cannot be reached. Every
 * page and bundle is fetched from the network first (policy.ts); the cache is
 * only the offline page's. A new build names a new cache (SW_VERSION, stamped
 * by scripts/build-client.mjs), and the old one is dropped on activation.
 */
import { handlingOf, OFFLINE_PAGE, PRECACHED } from './policy';

declare const self: ServiceWorkerGlobalScope;
declare const SW_VERSION: string;

const CACHE = `switchyard-${SW_VERSION}`;

self.addEventListener('install', (event) => {
	// NOTE: cache: 'reload' skips the HTTP cache, so the offline page is this build's.
	event.waitUntil(caches.open(CACHE)
		.then((cache) => cache.addAll(PRECACHED.map((url) => new Request(url, { cache: 'reload' }))))
		// Nothing is served from the cache while the node answers: a new worker may take over at once.
		.then(() => self.skipWaiting()));
});

self.addEventListener('activate', (event) => {
	event.waitUntil(caches.keys()
		.then((names) => Promise.all(names.filter((name) => name !== CACHE).map((name) => caches.delete(name))))
		.then(() => self.clients.claim()));
});

self.addEventListener('fetch', (event) => {
	const { request } = event;
	const handling = handlingOf({ method: request.method, url: request.url, mode: request.mode, origin: self.location.origin });
	if (handling === 'pass') {
		return;
	}
	const fallback = handling === 'page' ? OFFLINE_PAGE : request;
	event.respondWith(fetch(request).catch(async (error: unknown) => {
		const cached = await caches.match(fallback, { cacheName: CACHE });
		if (!cached) {
			throw error;
		}
		return cached;
	}));
});

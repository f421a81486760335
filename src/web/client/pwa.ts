/**
 * On every page: registers the service worker (sw/serviceWorker.ts) that makes
 * the client installable and shows the offline page. Nothing else: the pages
 * work the same without it (an old browser, a private window).
 */
if ('serviceWorker' in navigator) {
	// NOTE: the script lives under /assets/ with the other bundles; its
	// Service-Worker-Allowed header lets it control every page (scope /).
	navigator.serviceWorker.register('/assets/sw.js', { scope: '/' }).catch((error: unknown) => {
		console.warn('the service worker did not register', error);
	});
}
export {};

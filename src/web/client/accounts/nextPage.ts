/**
 * Where the sign-in page goes on to: `next` resolved against this node's
 * `origin` as the browser would resolve it, when that lands on the same
 * origin; `fallback` otherwise. The answer is the absolute URL, so the
 * browser cannot read it differently (`/\evil`, a tab in `/\t/evil` and
 * `/.//evil` all resolve off-origin or would as a path).
 */
export function safeNext(next: string | null, origin: string, fallback = '/directory'): string {
	if (!next) {
		return fallback;
	}
	let url: URL;
	try {
		url = new URL(next, origin);
	} catch {
		return fallback;
	}
	return url.origin === new URL(origin).origin ? url.href : fallback;
}

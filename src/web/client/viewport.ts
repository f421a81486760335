import type { Viewport } from './hookTypes';

/** Reports wait this long for a resize or a scroll to settle (ms). */
const SETTLE_MS = 250;
/** Sizes are rounded to this many pixels: a drag of a window edge is not a stream of reports. */
const ROUND_PX = 16;

type Watched = { consumerId: string; width: number; height: number; intersecting: boolean; sent?: string };

/**
 * Tells the server how each remote video is shown: its rendered size in
 * device pixels (ResizeObserver) and whether any of it is on screen
 * (IntersectionObserver, and the page itself being visible), so the policy
 * sends the layer that size needs and pauses what nobody sees. A report goes
 * only when a rounded size or the visibility changed, after things settle.
 */
export class ViewportReporter {
	readonly #send: (viewport: Viewport) => Promise<unknown>;
	readonly #watched = new Map<Element, Watched>();
	readonly #resize: ResizeObserver;
	readonly #intersect: IntersectionObserver;
	#timer: ReturnType<typeof setTimeout> | undefined;
	/** The last report of each consumer, for tests and debugging. */
	readonly reported = new Map<string, Viewport>();

	constructor(send: (viewport: Viewport) => Promise<unknown>) {
		this.#send = send;
		this.#resize = new ResizeObserver((entries) => {
			for (const entry of entries) {
				const watched = this.#watched.get(entry.target);
				if (watched) {
					watched.width = entry.contentRect.width;
					watched.height = entry.contentRect.height;
				}
			}
			this.#settle();
		});
		this.#intersect = new IntersectionObserver((entries) => {
			for (const entry of entries) {
				const watched = this.#watched.get(entry.target);
				if (watched) {
					watched.intersecting = entry.isIntersecting;
				}
			}
			this.#settle();
		});
		document.addEventListener('visibilitychange', () => this.#settle());
	}

	/** Starts reporting how `element` (a remote video) is shown. */
	observe(consumerId: string, element: Element): void {
		this.unobserve(consumerId);
		this.#watched.set(element, { consumerId, width: 0, height: 0, intersecting: false });
		this.#resize.observe(element);
		this.#intersect.observe(element);
	}

	unobserve(consumerId: string): void {
		for (const [element, watched] of this.#watched) {
			if (watched.consumerId === consumerId) {
				this.#watched.delete(element);
				this.#resize.unobserve(element);
				this.#intersect.unobserve(element);
			}
		}
		this.reported.delete(consumerId);
	}

	#settle(): void {
		clearTimeout(this.#timer);
		this.#timer = setTimeout(() => this.#report(), SETTLE_MS);
	}

	#report(): void {
		const pageVisible = document.visibilityState === 'visible';
		// NOTE: in device pixels (up to 2 per CSS pixel): a tile on a HiDPI
		// screen needs the sharper layer; beyond 2x nobody sees the difference.
		const density = Math.min(2, Math.max(1, window.devicePixelRatio || 1));
		for (const watched of this.#watched.values()) {
			const width = Math.round((watched.width * density) / ROUND_PX) * ROUND_PX;
			const height = Math.round((watched.height * density) / ROUND_PX) * ROUND_PX;
			const visible = pageVisible && watched.intersecting && width > 0 && height > 0;
			const key = `${width}x${height}/${visible}`;
			if (key === watched.sent) {
				continue;
			}
			watched.sent = key;
			const viewport = { consumerId: watched.consumerId, width, height, visible };
			this.reported.set(watched.consumerId, viewport);
			// NOTE: a consumer that closed meanwhile is refused (not_found): nothing to do.
			this.#send(viewport).catch(() => undefined);
		}
	}
}

const DISMISSED = 'switchyard.callNotifications';

/** The call the incoming screen shows: who calls (a CallScreens Party), and how. */
type Ringing = { callId: string; from: { handle: string; displayName: string }; media: 'audio' | 'video' };

/** The page is behind another tab or window, or minimized: the incoming screen is not seen. */
function inBackground(): boolean {
	return document.visibilityState !== 'visible' || !document.hasFocus();
}

function permitted(): boolean {
	return typeof Notification === 'function' && Notification.permission === 'granted';
}

/**
 * The system notification of the call on the incoming screen, while the page
 * is in the background (docs/web-client.md, "Incoming calls in the
 * background"). One at a time, like the screen: it follows the call the
 * screen shows, goes when the screen goes (answered, declined, answered or
 * declined elsewhere, cancelled, missed) and when the page comes to the
 * front; clicking it brings the page, with the screen, to the front.
 * NOTE: a notification the page creates lives as long as the page; a closed
 * tab rings nowhere, as with the ring tone.
 */
export class CallNotifications {
	#ringing?: Ringing;
	#shown?: Notification;

	constructor() {
		const changed = () => (inBackground() ? this.#show() : this.#close());
		document.addEventListener('visibilitychange', changed);
		addEventListener('focus', changed);
		addEventListener('blur', changed);
	}

	ring(ringing: Ringing): void {
		if (this.#ringing?.callId !== ringing.callId) {
			this.#close();
		}
		this.#ringing = ringing;
		if (inBackground()) {
			this.#show();
		}
	}

	stop(): void {
		this.#ringing = undefined;
		this.#close();
	}

	#show(): void {
		const ringing = this.#ringing;
		if (!ringing || this.#shown || !permitted()) {
			return;
		}
		const shown = new Notification(`${ringing.from.displayName} is calling`, {
			body: `@${ringing.from.handle} · ${ringing.media === 'video' ? 'video' : 'audio'} call`,
			tag: 'switchyard-incoming-call',
			requireInteraction: true,
		});
		shown.addEventListener('click', () => {
			focus();
			shown.close();
		});
		this.#shown = shown;
	}

	#close(): void {
		this.#shown?.close();
		this.#shown = undefined;
	}
}

/**
 * The offer to turn call notifications on (markup: #notify-offer in
 * src/web/accountPages.ts). The browser's permission prompt comes only from
 * the person's "Turn on", never on load; "Not now" is remembered in this
 * browser. Nothing shows once the browser has an answer (granted or denied).
 */
export function offerCallNotifications(offer: HTMLElement): void {
	if (typeof Notification !== 'function' || Notification.permission !== 'default' || localStorage.getItem(DISMISSED) === 'dismissed') {
		return;
	}
	offer.hidden = false;
	offer.querySelector('#notify-on')?.addEventListener('click', () => {
		offer.hidden = true;
		void Notification.requestPermission().catch(() => undefined);
	});
	offer.querySelector('#notify-later')?.addEventListener('click', () => {
		offer.hidden = true;
		localStorage.setItem(DISMISSED, 'dismissed');
	});
}

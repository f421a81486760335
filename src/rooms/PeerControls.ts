import { AppError } from '../errors';
import type { Source } from './types';

/** What the server API lets a participant do (docs/server-api.md); both by default. */
export type Permissions = { canPublish: boolean; canSubscribe: boolean };

/**
 * What the server API set for one peer (docs/server-api.md): the sources it
 * muted, the peer's metadata and its permissions. A muted source stays
 * paused: the peer may not resume it, nor produce it again unpaused, until
 * the API allows it again (and then the peer unmutes itself: the server
 * never turns a microphone or a camera on).
 */
export class PeerControls {
	/** Set by the server API; shown to the others (peer.updated). */
	metadata: string | undefined;
	/** The peer raised its hand (hand.set); the others see it. */
	handRaised = false;
	readonly #muted = new Set<Source>();
	#permissions: Permissions = { canPublish: true, canSubscribe: true };

	get permissions(): Readonly<Permissions> {
		return this.#permissions;
	}

	/** Changes some permissions; returns the ones that changed. */
	permit(changes: Partial<Permissions>): Partial<Permissions> {
		const changed = Object.fromEntries(Object.entries(changes).filter(([key, value]) => value !== undefined && this.#permissions[key as keyof Permissions] !== value));
		this.#permissions = { ...this.#permissions, ...changed };
		return changed;
	}

	/** Marks `source` muted by the service (or no longer); returns whether that changed. */
	setMuted(source: Source, muted: boolean): boolean {
		if (this.#muted.has(source) === muted) {
			return false;
		}
		if (muted) {
			this.#muted.add(source);
		} else {
			this.#muted.delete(source);
		}
		return true;
	}

	mutedBy(source: Source): boolean {
		return this.#muted.has(source);
	}

	/** @throws muted_by_service while the server API keeps `source` muted */
	assertMayResume(source: Source): void {
		if (this.#muted.has(source)) {
			throw new AppError('muted_by_service', `the service muted your ${source}: wait until it allows you to unmute`);
		}
	}

	/** @throws not_permitted without canPublish; muted_by_service for a muted source not produced paused */
	assertMayProduce(source: Source, paused: boolean): void {
		if (!this.#permissions.canPublish) {
			throw new AppError('not_permitted', 'the service does not permit you to publish');
		}
		if (!paused) {
			this.assertMayResume(source);
		}
	}
}

import type { PeerInfo } from '../../signaling/protocol';
import type { RemoteTrack } from './Subscriber';
import { showQuality, type Quality } from './quality';
import { TileLayout, type View } from './views';

const LOCAL = 'local';
const PIN = '<svg viewBox="0 0 24 24" aria-hidden="true"><path d="M9 3h6l-1 6 4 4v2h-5v6l-1 1-1-1v-6H6v-2l4-4z"/></svg>';
const HAND = '<svg viewBox="0 0 24 24" aria-hidden="true"><path d="M8 11V5a1.5 1.5 0 0 1 3 0v5V3.5a1.5 1.5 0 0 1 3 0V10V5a1.5 1.5 0 0 1 3 0v9a7 7 0 0 1-7 7c-2.5 0-4-1.2-5.3-3.2L2.4 13a1.6 1.6 0 0 1 2.6-1.8L8 14z"/></svg>';
const MIC_OFF = '<svg viewBox="0 0 24 24" aria-hidden="true"><rect x="9" y="3" width="6" height="11" rx="3"/><path d="M5 11a7 7 0 0 0 14 0M12 18v3M4 4l16 16" fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round"/></svg>';

type TrackEntry = { key: string; kind: 'audio' | 'video'; source: string; element: HTMLMediaElement; paused: boolean; undecryptable?: boolean; quality?: Quality };

/** What the grid tells the page about remote videos: where each is shown, and pins. */
export type GridListener = {
	videoShown?(consumerId: string, element: HTMLVideoElement): void;
	videoGone?(consumerId: string): void;
	pinned?(consumerId: string, pinned: boolean): void;
	/** A remote participant's name on its tile; its display name by default. */
	label?(peer: PeerInfo): string;
	/** A participant's tile changed (the participant list follows it): microphone muted, hand raised, pinned. */
	changed?(peerId: string, change: TileChange): void;
};

/** What `GridListener.changed` reports; only what changed is set. */
export type TileChange = { muted?: boolean; hand?: boolean; pinned?: boolean };

/**
 * The grid of tiles: the local participant first, then one per remote
 * participant, and one more per screen share. A tile shows the camera (or
 * the name's initial when there is none or it is off), the name, a muted
 * microphone sign, and plays that participant's audio. Tiles go when their
 * participant leaves; the active speaker's tile is highlighted. A remote tile
 * can be pinned: it goes first and the server sends it its best layer. The
 * tiles are sized to fill the grid (layout.ts) and re-sized when it changes
 * size.
 */
export class Grid {
	readonly #root: HTMLElement;
	/** Tiles by key: "local", a peer id, or "<peer id>/screen". */
	readonly #tiles = new Map<string, HTMLElement>();
	readonly #tracks = new Map<string, TrackEntry>();
	readonly #listener: GridListener;
	readonly #tileLayout: TileLayout;
	/** The speaker the remote media plays on ('' for the default), where the browser can choose (setSinkId). */
	#sinkId = '';

	constructor(root: HTMLElement, listener: GridListener = {}) {
		this.#root = root;
		this.#listener = listener;
		this.#tileLayout = new TileLayout(root, this.#tiles);
		new ResizeObserver(() => this.#layout()).observe(root);
	}

	/** The local participant's tile, with its own camera (muted, mirrored). */
	addLocal(name: string, stream: MediaStream): void {
		const tile = this.#tile(LOCAL, `${name} (you)`);
		tile.classList.add('local');
		const video = tile.querySelector('video')!;
		video.srcObject = new MediaStream(stream.getVideoTracks());
		tile.classList.toggle('has-video', stream.getVideoTracks().length > 0);
	}

	/** The local camera preview shows this track (another camera chosen in the call). */
	setLocalVideo(track: MediaStreamTrack): void {
		const tile = this.#tiles.get(LOCAL);
		if (tile) {
			tile.querySelector('video')!.srcObject = new MediaStream([track]);
		}
	}

	/** Grid view (layout.ts), or speaker view: one tile large (views.ts), the others a strip. */
	setView(view: View): void {
		this.#tileLayout.view = view;
		this.#layout();
	}

	/** The local peer id (it changes if the session had to join afresh). */
	setLocalId(peerId: string): void {
		const tile = this.#tiles.get(LOCAL);
		if (tile) {
			tile.dataset.peerId = peerId;
		}
	}

	/** The local microphone muted, the local camera off. */
	setLocal({ muted, cameraOff }: { muted?: boolean; cameraOff?: boolean }): void {
		const tile = this.#tiles.get(LOCAL);
		if (tile && muted !== undefined) {
			tile.classList.toggle('muted', muted);
			this.#listener.changed?.(tile.dataset.peerId!, { muted });
		}
		if (tile && cameraOff !== undefined) {
			tile.classList.toggle('has-video', !cameraOff && Boolean((tile.querySelector('video')!.srcObject as MediaStream | null)?.getVideoTracks().length));
		}
	}

	/** Makes the remote tiles exactly these participants. */
	roster(peers: PeerInfo[]): void {
		const keep = new Set(peers.map((p) => p.id));
		for (const key of [...this.#tiles.keys()]) {
			const peerId = key.split('/')[0]!;
			if (key !== LOCAL && !keep.has(peerId)) {
				this.remove(peerId);
			}
		}
		for (const peer of peers) {
			this.add(peer);
		}
	}

	add(peer: PeerInfo): void {
		this.#tile(peer.id, this.#listener.label?.(peer) ?? peer.displayName);
	}

	/** A participant left: its tiles (camera and screen) go, with their tracks. */
	remove(peerId: string): void {
		for (const key of [peerId, `${peerId}/screen`]) {
			this.#tiles.get(key)?.remove();
			this.#tiles.delete(key);
		}
		for (const [consumerId, entry] of this.#tracks) {
			if (entry.key === peerId || entry.key === `${peerId}/screen`) {
				this.#tracks.delete(consumerId);
				if (entry.kind === 'video') {
					this.#listener.videoGone?.(consumerId);
				}
			}
		}
		this.#layout();
	}

	/** Only the local tile stays (after leaving). */
	clear(): void {
		for (const key of [...this.#tiles.keys()]) {
			if (key !== LOCAL) {
				this.remove(key.split('/')[0]!);
			}
		}
	}

	addTrack(track: RemoteTrack): void {
		const screen = track.source === 'screen' || track.source === 'screenAudio';
		const key = screen ? `${track.peerId}/screen` : track.peerId;
		const name = this.#tiles.get(track.peerId)?.querySelector('.name')?.textContent ?? 'Guest';
		const tile = this.#tiles.get(key) ?? this.#tile(key, screen ? `${name} (screen)` : name);
		if (screen) {
			tile.classList.add('screen');
			tile.dataset.peerId = track.peerId;
		}
		let element: HTMLMediaElement;
		if (track.kind === 'video') {
			element = tile.querySelector('video')!;
		} else {
			element = document.createElement('audio');
			element.autoplay = true;
			tile.append(element);
		}
		element.srcObject = new MediaStream([track.track]);
		sink(element, this.#sinkId);
		element.dataset.consumerId = track.consumerId;
		element.dataset.ssrc = String(track.ssrc ?? '');
		// NOTE: autoplay with sound may be refused until the user interacts; the
		// room page retries on the first click (see room.ts).
		void element.play().catch(() => undefined);
		this.#tracks.set(track.consumerId, { key, kind: track.kind, source: track.source, element, paused: track.paused });
		this.#show(track.consumerId);
		if (track.kind === 'video') {
			this.#listener.videoShown?.(track.consumerId, element as HTMLVideoElement);
			if (tile.classList.contains('pinned')) {
				this.#listener.pinned?.(track.consumerId, true);
			}
		}
	}

	removeTrack(consumerId: string): void {
		const entry = this.#tracks.get(consumerId);
		if (!entry) {
			return;
		}
		this.#tracks.delete(consumerId);
		const tile = this.#tiles.get(entry.key);
		this.#showQuality(entry.key);
		if (entry.kind === 'video') {
			this.#listener.videoGone?.(consumerId);
		}
		if (entry.kind === 'audio') {
			entry.element.remove();
			if (entry.source === 'mic') {
				tile?.classList.remove('muted');
				this.#listener.changed?.(entry.key, { muted: false });
			}
		} else if (entry.element.dataset.consumerId === consumerId) {
			entry.element.srcObject = null;
			tile?.classList.remove('has-video');
		}
		// A screen share's tile goes with its video.
		if (entry.key.endsWith('/screen') && entry.kind === 'video' && tile) {
			tile.remove();
			this.#tiles.delete(entry.key);
			this.#layout();
		}
	}

	/** The remote producer was paused or resumed (muted, camera off). */
	setTrackPaused(consumerId: string, paused: boolean): void {
		const entry = this.#tracks.get(consumerId);
		if (entry) {
			entry.paused = paused;
			this.#show(consumerId);
		}
	}

	/**
	 * End-to-end encryption: a remote track's frames do not open with this
	 * page's key. Its tile says so (its name and initial, no picture), rather
	 * than showing a frozen or blank video.
	 */
	setUndecryptable(consumerId: string, undecryptable: boolean): void {
		const entry = this.#tracks.get(consumerId);
		if (!entry) {
			return;
		}
		entry.undecryptable = undecryptable;
		const tile = this.#tiles.get(entry.key);
		const any = [...this.#tracks.values()].some((t) => t.key === entry.key && t.undecryptable);
		tile?.classList.toggle('undecryptable', any);
		if (tile) {
			tile.title = any ? 'Cannot decrypt: this participant uses another key (a different link)' : '';
		}
	}

	/** This page's connection quality for a remote track (consumer.quality): its tile shows the worst of its tracks'. */
	setQuality(consumerId: string, quality: Quality): void {
		const entry = this.#tracks.get(consumerId);
		if (entry) {
			entry.quality = quality;
			this.#showQuality(entry.key);
		}
	}

	/** The worst quality of the tracks a tile has now (a track gone no longer counts). */
	#showQuality(key: string): void {
		const tile = this.#tiles.get(key);
		if (tile) {
			showQuality(tile, [...this.#tracks.values()].filter((t) => t.key === key).map((t) => t.quality));
		}
	}

	/** Audio played by the page's elements: retried after a click when autoplay was refused. */
	playAll(): void {
		for (const { element } of this.#tracks.values()) {
			if (element.paused) {
				void element.play().catch(() => undefined);
			}
		}
	}

	/** Plays the remote media on this speaker (an audiooutput device id; '' for the default), now and for tracks added later. */
	setSpeaker(deviceId: string): void {
		this.#sinkId = deviceId;
		for (const { element } of this.#tracks.values()) {
			sink(element, deviceId);
		}
	}

	/** A participant's raised hand (yours too, by your peer id): a hand on its tile. */
	setHand(peerId: string, raised: boolean): void {
		for (const tile of this.#tiles.values()) {
			if (tile.dataset.peerId === peerId && !tile.classList.contains('screen')) {
				tile.classList.toggle('hand-raised', raised);
			}
		}
		this.#listener.changed?.(peerId, { hand: raised });
	}

	setActiveSpeaker(peerId: string | null): void {
		for (const tile of this.#tiles.values()) {
			tile.classList.toggle('speaking', peerId !== null && tile.dataset.peerId === peerId && !tile.classList.contains('screen'));
		}
		if (this.#tileLayout.spoke(peerId)) {
			this.#layout();
		}
	}

	/** Pins a remote participant's tile (or unpins it): the tile's pin button, and the participant list's. */
	pin(peerId: string, pinned: boolean): void {
		const tile = this.#tiles.get(peerId);
		if (!tile || peerId === LOCAL || tile.classList.contains('pinned') === pinned) {
			return;
		}
		tile.classList.toggle('pinned', pinned);
		const button = tile.querySelector('.pin')!;
		button.setAttribute('aria-pressed', String(pinned));
		button.setAttribute('title', pinned ? 'Unpin' : 'Pin');
		for (const [consumerId, entry] of this.#tracks) {
			if (entry.key === peerId && entry.kind === 'video') {
				this.#listener.pinned?.(consumerId, pinned);
			}
		}
		this.#listener.changed?.(peerId, { pinned });
		this.#layout();
	}

	#show(consumerId: string): void {
		const entry = this.#tracks.get(consumerId)!;
		const tile = this.#tiles.get(entry.key);
		if (entry.kind === 'video') {
			tile?.classList.toggle('has-video', !entry.paused);
		} else if (entry.source === 'mic') {
			tile?.classList.toggle('muted', entry.paused);
			this.#listener.changed?.(entry.key, { muted: entry.paused });
		}
	}

	#tile(key: string, name: string): HTMLElement {
		let tile = this.#tiles.get(key);
		if (!tile) {
			tile = document.createElement('figure');
			tile.className = 'tile';
			tile.dataset.peerId = key;
			const video = document.createElement('video');
			video.autoplay = true;
			video.playsInline = true;
			video.muted = true;
			const avatar = document.createElement('div');
			avatar.className = 'avatar';
			avatar.setAttribute('aria-hidden', 'true');
			const caption = document.createElement('figcaption');
			caption.innerHTML = `<span class="hand-mark" title="hand raised" role="img" aria-label="hand raised">${HAND}</span><span class="mic-off" title="muted" role="img" aria-label="muted">${MIC_OFF}</span><span class="name"></span><span class="undecryptable-note">cannot decrypt</span><span class="quality" role="img" hidden><i></i><i></i><i></i></span>`;
			tile.append(video, avatar, caption);
			if (key !== LOCAL) {
				tile.append(this.#pinButton(key, tile));
			}
			// The local tile first; the others in order of arrival.
			if (key === LOCAL) {
				this.#root.prepend(tile);
			} else {
				this.#root.append(tile);
			}
			this.#tiles.set(key, tile);
			this.#layout();
		}
		tile.querySelector('.name')!.textContent = name;
		tile.querySelector('.pin')?.setAttribute('aria-label', `Pin ${name}`);
		const avatar = tile.querySelector<HTMLElement>('.avatar')!;
		avatar.textContent = name.trim().slice(0, 1).toUpperCase() || '?';
		avatar.style.setProperty('--hue', String(hue(name)));
		return tile;
	}

	/** Pins a tile (or unpins it) and tells the page which video that concerns. */
	#pinButton(key: string, tile: HTMLElement): HTMLButtonElement {
		const button = document.createElement('button');
		button.type = 'button';
		button.className = 'pin';
		button.title = 'Pin';
		button.setAttribute('aria-pressed', 'false');
		button.innerHTML = PIN;
		button.addEventListener('click', () => this.pin(key, !tile.classList.contains('pinned')));
		return button;
	}

	/** Sizes the tiles: all of them fill the grid, or one large and a strip (views.ts). */
	#layout(): void {
		this.#tileLayout.apply();
	}
}

/** Sends `element`'s sound to the speaker `sinkId`, where the browser has setSinkId; a speaker that is gone leaves the default. */
function sink(element: HTMLMediaElement, sinkId: string): void {
	const media = element as HTMLMediaElement & { sinkId?: string; setSinkId?(id: string): Promise<void> };
	if (typeof media.setSinkId === 'function' && media.sinkId !== sinkId) {
		media.setSinkId(sinkId).catch((error: Error) => console.warn('switchyard: could not use the chosen speaker', error.name));
	}
}

/** A stable hue per name, for the avatar. */
function hue(name: string): number {
	let h = 0;
	for (const c of name) {
		h = (h * 31 + c.charCodeAt(0)) % 360;
	}
	return h;
}

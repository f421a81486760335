import type { PeerInfo } from '../../signaling/protocol';
import type { RemoteTrack } from './CallSession';

/**
 * The grid of tiles: one per participant (the local one first), each with a
 * video element, a name and, hidden, the audio of that participant. Tiles go
 * when their participant leaves; the active speaker's tile is highlighted.
 */
export class Grid {
	readonly #root: HTMLElement;
	readonly #tiles = new Map<string, HTMLElement>();
	/** Which tile and element each consumer's track is in. */
	readonly #tracks = new Map<string, { peerId: string; element: HTMLMediaElement; kind: 'audio' | 'video' }>();

	constructor(root: HTMLElement) {
		this.#root = root;
	}

	/** The local participant's tile, with its own (muted, mirrored) camera. */
	addLocal(peerId: string, name: string, stream: MediaStream): void {
		const tile = this.#tile(peerId, `${name} (you)`);
		tile.classList.add('local');
		const video = tile.querySelector('video')!;
		video.muted = true;
		video.srcObject = stream;
	}

	/** Makes the tiles exactly these participants (plus the local one). */
	roster(peers: PeerInfo[], localId: string): void {
		const keep = new Set([localId, ...peers.map((p) => p.id)]);
		for (const peerId of [...this.#tiles.keys()]) {
			if (!keep.has(peerId)) {
				this.remove(peerId);
			}
		}
		for (const peer of peers) {
			this.add(peer);
		}
	}

	add(peer: PeerInfo): void {
		this.#tile(peer.id, peer.displayName);
	}

	remove(peerId: string): void {
		this.#tiles.get(peerId)?.remove();
		this.#tiles.delete(peerId);
		for (const [consumerId, entry] of this.#tracks) {
			if (entry.peerId === peerId) {
				this.#tracks.delete(consumerId);
			}
		}
		this.#layout();
	}

	addTrack(track: RemoteTrack): void {
		const tile = this.#tiles.get(track.peerId) ?? this.#tile(track.peerId, 'Guest');
		let element: HTMLMediaElement;
		if (track.kind === 'video') {
			element = tile.querySelector('video')!;
			tile.classList.add('has-video');
		} else {
			element = document.createElement('audio');
			element.autoplay = true;
			tile.append(element);
		}
		element.srcObject = new MediaStream([track.track]);
		element.dataset.consumerId = track.consumerId;
		element.dataset.ssrc = String(track.ssrc);
		void element.play().catch(() => undefined);
		this.#tracks.set(track.consumerId, { peerId: track.peerId, element, kind: track.kind });
	}

	removeTrack(consumerId: string): void {
		const entry = this.#tracks.get(consumerId);
		if (!entry) {
			return;
		}
		this.#tracks.delete(consumerId);
		if (entry.kind === 'audio') {
			entry.element.remove();
		} else if (entry.element.dataset.consumerId === consumerId) {
			entry.element.srcObject = null;
			this.#tiles.get(entry.peerId)?.classList.remove('has-video');
		}
	}

	setActiveSpeaker(peerId: string | null): void {
		for (const [id, tile] of this.#tiles) {
			tile.classList.toggle('speaking', id === peerId);
		}
	}

	#tile(peerId: string, name: string): HTMLElement {
		let tile = this.#tiles.get(peerId);
		if (!tile) {
			tile = document.createElement('figure');
			tile.className = 'tile';
			tile.dataset.peerId = peerId;
			const video = document.createElement('video');
			video.autoplay = true;
			video.playsInline = true;
			video.muted = true;
			const caption = document.createElement('figcaption');
			const initials = document.createElement('div');
			initials.className = 'avatar';
			tile.append(video, initials, caption);
			this.#root.append(tile);
			this.#tiles.set(peerId, tile);
			this.#layout();
		}
		tile.querySelector('figcaption')!.textContent = name;
		(tile.querySelector('.avatar') as HTMLElement).textContent = name.trim().slice(0, 1).toUpperCase();
		return tile;
	}

	/** Columns for the number of tiles, so the grid fills the screen. */
	#layout(): void {
		const count = Math.max(1, this.#tiles.size);
		this.#root.style.setProperty('--columns', String(Math.ceil(Math.sqrt(count))));
		this.#root.dataset.count = String(count);
	}
}

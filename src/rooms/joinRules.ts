/** What a peer must meet to join a room (Room.join). */
import { AppError } from '../errors';
import { MEDIA_CODECS, type ms } from '../media';
import type { PeerView } from './PeerLink';

/**
 * A room's peers all encrypt end to end or none does (docs/e2ee.md), and an
 * encrypted room takes at most `max` (every receiver opens every stream in
 * JavaScript). `peers`: the room's, on every node, and those being placed.
 * @throws e2ee_mismatch, room_full
 */
export function assertE2eeFits(peers: readonly PeerView[], e2ee: boolean, max: number): void {
	const [first] = peers;
	if (first && first.e2ee !== e2ee) {
		throw new AppError('e2ee_mismatch', first.e2ee
			? 'this room is end-to-end encrypted: open it with its full link, including the part after #'
			: 'this room is not end-to-end encrypted: an encrypted link needs a room of its own', { details: { e2ee: first.e2ee } });
	}
	if (e2ee && peers.length >= max) {
		throw new AppError('room_full', `an end-to-end encrypted room takes at most ${max} participants`);
	}
}

/** The client can receive at least one of the room's codecs. */
export function hasUsableCodec(rtpCapabilities: ms.RtpCapabilities): boolean {
	return (rtpCapabilities.codecs ?? []).some((codec) =>
		MEDIA_CODECS.some((c) => c.mimeType.toLowerCase() === codec.mimeType.toLowerCase()));
}

import { CALL_ROOM_PREFIX, type CallService } from '../calls';
import type { Peer, Room, RoomRegistry } from '../rooms';
import type { WebhookSubject } from './events';
import type { RoomSeqs } from './RoomSeqs';
import type { Webhooks } from './Webhooks';

const participant = (peer: Peer): WebhookSubject['participant'] => ({ identity: peer.claims.sub, peerId: peer.id, displayName: peer.displayName });

/**
 * The room events of this node's rooms: room_started / room_finished when
 * a room opens / closes here (in a fleet, only on the first node to open it
 * and the last to close it: RoomSeqs), participant_joined / _left for the
 * peers here (a peer still there when its room closes leaves with it, before
 * room_finished), track_published / _unpublished for their producers.
 */
export function watchRooms(rooms: RoomRegistry, webhooks: Webhooks, seqs: RoomSeqs): void {
	rooms.observer.on('roomCreated', (room) => {
		const subject = { room: { id: room.id } };
		webhooks.emit('room_started', subject, () => seqs.opened(room.id));
		const here = new Set<Peer>();
		room.observer.on('peerJoined', (peer) => {
			here.add(peer);
			webhooks.emit('participant_joined', { ...subject, participant: participant(peer) });
		});
		room.events.on('peerLeft', (peer) => {
			if (here.delete(peer)) {
				webhooks.emit('participant_left', { ...subject, participant: participant(peer) });
			}
		});
		room.observer.on('produced', (peer, producer) => {
			const track = { id: producer.id, kind: producer.kind, source: producer.appData.source };
			webhooks.emit('track_published', { ...subject, participant: participant(peer), track });
			producer.observer.once('close', () => webhooks.emit('track_unpublished', { ...subject, participant: participant(peer), track }));
		});
		room.events.once('closed', () => finished(room, here));
	});

	function finished(room: Room, here: Set<Peer>): void {
		for (const peer of here) {
			webhooks.emit('participant_left', { room: { id: room.id }, participant: participant(peer) });
		}
		here.clear();
		webhooks.emit('room_finished', { room: { id: room.id } }, () => seqs.closed(room.id));
	}
}

/** call_started when a call first rings someone, call_ended with how it went (CallOverOutcome), for the calls placed on this node. */
export function watchCalls(calls: CallService, webhooks: Webhooks): void {
	const started = new Set<string>();
	calls.observer.on('invited', (callId) => {
		if (!started.has(callId)) {
			started.add(callId);
			webhooks.emit('call_started', { room: { id: `${CALL_ROOM_PREFIX}${callId}` }, call: { id: callId } });
		}
	});
	calls.observer.on('over', (callId, outcome) => {
		started.delete(callId);
		webhooks.emit('call_ended', { room: { id: `${CALL_ROOM_PREFIX}${callId}` }, call: { id: callId, outcome } });
	});
}

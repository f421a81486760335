import { z } from 'zod';
import { nodeIdSchema } from '../cluster';
import { displayText } from '../util';

// A node's part of a room that spans nodes (RoomSpan.ts): its peers there,
// their producers, the speaker (from the room's home node only) and what its
// subscribers need of the other nodes' producers. Each node keeps its part
// in Redis (`PREFIX room:ID:parts`, a field per node run) and sends it to the
// room's other nodes whenever it changes (`room.part` over the bus); `seq`
// orders the parts of one run. Validated on arrival: it comes from another
// node, whose clients chose the names in it.

/** Parts carry at most this many peers (rooms.maxPeers is at most 1000). */
const MAX_PEERS = 1000;
const id = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/);

const producer = z.strictObject({
	id,
	kind: z.enum(['audio', 'video']),
	source: z.enum(['mic', 'camera', 'screen', 'screenAudio']),
	paused: z.boolean(),
	routerId: id,
	encodings: z.number().int().min(1).max(8),
});

const peer = z.strictObject({
	id,
	displayName: displayText(64),
	handle: z.string().regex(/^[a-z0-9_]{3,30}$/).optional(),
	/** Its account is verified; absent when it is not, and from nodes before issue 26. */
	verified: z.literal(true).optional(),
	/** The peer encrypts end to end; absent from the parts of nodes before issue 24 (false). */
	e2ee: z.boolean().optional(),
	/** A call party's device (PeerIdentity); absent for other peers and from nodes before issue 25. */
	identity: z.strictObject({ deviceId: z.string().regex(/^[A-Za-z0-9_-]{16,64}$/), key: z.string().regex(/^[A-Za-z0-9_-]{87}$/) }).optional(),
	/** It raised its hand (hand.set); absent when not, and from nodes before issue 28. */
	handRaised: z.literal(true).optional(),
	producers: z.array(producer).max(16),
});

export const roomPartSchema = z.strictObject({
	v: z.literal(1),
	node: nodeIdSchema,
	/** The node's run (`NODE@STARTED`): a part of an earlier run of the node is another part. */
	run: z.string().max(128),
	seq: z.number().int().min(0),
	peers: z.array(peer).max(MAX_PEERS),
	/** Set by the room's home node only: who speaks, null when nobody. */
	speaker: z.strictObject({ peerId: id, producerId: id }).nullable().optional(),
	/** What the node's subscribers need of other nodes' simulcast producers: the encodings, by producer id. */
	needs: z.record(id, z.array(z.boolean()).max(8)).refine((needs) => Object.keys(needs).length <= MAX_PEERS * 4),
});

export type RoomPart = z.infer<typeof roomPartSchema>;
export type RoomPartPeer = RoomPart['peers'][number];

/** room.part: a node's new part of a room. */
export const roomPartMessage = z.strictObject({ roomId: z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/), part: roomPartSchema });

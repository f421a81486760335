import { z } from 'zod';
import { nodeIdSchema } from '../cluster';
import type { CallSnapshot, RemoteCallRequest } from './fleet';

/**
 * A call as its owner publishes it in Redis (calls/fleet.ts's CallSnapshot),
 * and the requests and replies about calls between nodes: messages from
 * other nodes, validated before anything reads them. Versioned like node
 * records (`v`; docs/cluster.md).
 */
export const CALL_ENTRY_VERSION = 1;

const id = z.string().min(1).max(64);
const handle = z.string().min(1).max(64);
const at = z.number().int().min(0);
/** Optional: a call published by a node before issue 25 has none. */
const identity = z.object({ deviceId: z.string().regex(/^[A-Za-z0-9_-]{16,64}$/), key: z.string().regex(/^[A-Za-z0-9_-]{87}$/) }).optional();
const LEG_STATES = ['ringing', 'accepted', 'answered', 'declined', 'no_answer', 'cancelled'] as const;

export const callEntrySchema = z.object({
	v: z.literal(CALL_ENTRY_VERSION),
	id: z.uuid(),
	owner: nodeIdSchema,
	media: z.enum(['audio', 'video']),
	startedAt: at,
	caller: z.object({ id, handle, sid: id, device: id, identity }),
	legs: z.array(z.object({
		id,
		handle,
		state: z.enum(LEG_STATES),
		withdrawn: z.enum(['silenced', 'hidden']).optional(),
		silenced: z.boolean(),
		sid: id.optional(),
		identity,
		acceptedAt: at.optional(),
	})).max(1000),
}) satisfies z.ZodType<CallSnapshot & { v: number }>;

const party = z.object({ sub: id, sid: id });

/** Each request about a call, as the node that owns it takes it. */
export const callRequestSchemas = {
	accept: z.object({ callId: z.uuid(), party, device: id, identity }),
	decline: z.object({ callId: z.uuid(), party, device: id }),
	cancel: z.object({ callId: z.uuid(), party }),
	hangup: z.object({ callId: z.uuid(), party }),
	token: z.object({ callId: z.uuid(), party }),
} satisfies Record<RemoteCallRequest, z.ZodType>;

/** Each request's reply, as the node that asked takes it. */
export const callReplySchemas = {
	accept: z.object({ callId: z.uuid(), roomId: z.string().max(128), token: z.string().max(8192) }),
	decline: z.null(),
	cancel: z.null(),
	hangup: z.null(),
	token: z.object({ roomId: z.string().max(128), token: z.string().max(8192) }),
} satisfies Record<RemoteCallRequest, z.ZodType>;

/** Casts about calls to every node. */
export const partyRemovedSchema = z.object({
	callId: z.uuid(),
	roomId: z.string().max(128),
	userId: id,
	reason: z.enum(['hangup', 'callEnded']),
});
export const recheckSchema = z.object({ userId: id });

import { z } from 'zod';

/**
 * What a node publishes of itself in the registry: a message from another
 * node, so it is validated like a client's request before anything reads it.
 *
 * Versioning, for rolling upgrades (docs/cluster.md): `v` is the message's
 * major version. A release may add optional fields (older nodes ignore what
 * they do not know: the schema strips it) but must not remove, rename or
 * retype one without raising `v`; a node reads every `v` it knows and skips
 * (and logs) records of a newer one, so a fleet can run two releases at once.
 */
export const NODE_RECORD_VERSION = 1;

export const NODE_STATES = ['ready', 'not_ready', 'draining'] as const;
export type NodeState = (typeof NODE_STATES)[number];

const count = z.number().int().min(0).max(100_000_000);

export const nodeRecordSchema = z.object({
	v: z.literal(NODE_RECORD_VERSION),
	id: z.string().regex(/^[A-Za-z0-9._-]{1,64}$/),
	/** Where clients reach this node directly; null when the operator did not say (cluster.nodeUrl). */
	url: z.url({ protocol: /^https?$/ }).max(2048).nullable(),
	state: z.enum(NODE_STATES),
	rooms: count,
	peers: count,
	/** Consumers the node can still take (switchyard_capacity_consumers); null before it has measured. */
	headroom: count.nullable(),
	/** The release it runs (package.json). */
	release: z.string().max(64),
	startedAt: z.number().int().min(0),
	/** When it published this record (its own clock). */
	at: z.number().int().min(0),
});

export type NodeRecord = z.infer<typeof nodeRecordSchema>;

/** What a node reports of itself at each heartbeat. */
export type NodeStatus = Pick<NodeRecord, 'state' | 'rooms' | 'peers' | 'headroom'>;

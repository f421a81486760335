import { z } from 'zod';
import { isErrorCode } from '../errors';

/**
 * The messages nodes send each other over the bus (Bus.ts): a request to one
 * node, its reply, and a cast to every node. Each is validated here before
 * anything reads it, like a client's request; the body is validated again by
 * the handler of its method.
 *
 * Versioning, as for node records (docs/cluster.md): `v` is the envelope's
 * major version; a release may add optional fields and methods, never remove
 * or retype one without raising `v`. A node drops a message of a version it
 * does not know, and answers a request for a method it does not know with
 * `not_found`, so a fleet can run two releases at once.
 */
export const BUS_VERSION = 1;

export const nodeIdSchema = z.string().regex(/^[A-Za-z0-9._-]{1,64}$/);
const method = z.string().regex(/^[a-z][A-Za-z.]{0,63}$/);

const request = z.object({
	v: z.literal(BUS_VERSION),
	kind: z.literal('request'),
	id: z.uuid(),
	from: nodeIdSchema,
	to: nodeIdSchema,
	method,
	body: z.unknown(),
});

const reply = z.object({
	v: z.literal(BUS_VERSION),
	kind: z.literal('reply'),
	id: z.uuid(),
	from: nodeIdSchema,
	to: nodeIdSchema,
	ok: z.boolean(),
	body: z.unknown().optional(),
	error: z.object({
		code: z.string().refine(isErrorCode),
		message: z.string().max(1000),
	}).optional(),
});

const cast = z.object({
	v: z.literal(BUS_VERSION),
	kind: z.literal('cast'),
	from: nodeIdSchema,
	method,
	body: z.unknown(),
});

export const busMessageSchema = z.discriminatedUnion('kind', [request, reply, cast]);
export type BusMessage = z.infer<typeof busMessageSchema>;
export type BusRequest = z.infer<typeof request>;
export type BusReply = z.infer<typeof reply>;
export type BusCast = z.infer<typeof cast>;

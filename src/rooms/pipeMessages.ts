import { z } from 'zod';
import { rtpParameters } from '../media';

// What two nodes say to set up and tear down the pipes of a room between
// them (NodePipes.ts), over the cluster bus: the bodies of its requests and
// replies, validated on arrival like a client's request. The bus's envelope
// (cluster/busMessage.ts) carries the version and the sending node's id.

const id = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/);
const roomId = z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/);
/** An address another node reaches: an IP or a host name. */
const address = z.string().regex(/^[A-Za-z0-9.:-]{1,253}$/);
const srtpParameters = z.strictObject({
	cryptoSuite: z.enum(['AEAD_AES_256_GCM', 'AEAD_AES_128_GCM', 'AES_CM_128_HMAC_SHA1_80', 'AES_CM_128_HMAC_SHA1_32']),
	keyBase64: z.string().regex(/^[A-Za-z0-9+/]{1,120}={0,2}$/),
});

/** Where one end of a pipe listens, and the key it encrypts with. */
export const pipeEnd = z.strictObject({ ip: address, port: z.number().int().min(1).max(65535), srtpParameters });
export type PipeEnd = z.infer<typeof pipeEnd>;

/** pipe.open: make the sending end on router `routerId` of the room, towards `end` (the asking node's pipe `pipeId`). */
export const pipeOpen = z.strictObject({ roomId, routerId: id, pipeId: id, end: pipeEnd });
/** pipe.consume: send `producerId` through the pipe `pipeId`. */
export const pipeConsume = z.strictObject({ roomId, pipeId: id, producerId: id });
/** pipe.consume's answer: what the asking node's pipe producer is made with. */
export const pipeStream = z.strictObject({ kind: z.enum(['audio', 'video']), rtpParameters, paused: z.boolean() });
/** pipe.unconsume: stop sending `producerId` through `pipeId`. */
export const pipeUnconsume = z.strictObject({ pipeId: id, producerId: id });
/** pipe.close: close the sending end of `pipeId`. */
export const pipeClose = z.strictObject({ pipeId: id });
export const pipeDone = z.strictObject({});
/** pipe.check: which of these pipes (the asking node's ends) the answering node has no end of any more. */
export const pipeCheck = z.strictObject({ pipeIds: z.array(id).max(10_000) });
export const pipeMissing = z.strictObject({ missing: z.array(id).max(10_000) });

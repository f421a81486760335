import type { types as ms } from 'mediasoup';

/** Both ends of a real PipeTransport pair carrying one producer, as two nodes' pipe ends would. */
export type PipePair = { out: ms.PipeTransport; in: ms.PipeTransport; pipeProducer: ms.Producer; close(): void };

/**
 * Pipes `producer` (on `from`) into `to` over a PipeTransport pair on
 * 127.0.0.1, as Router.pipeToRouter does, but keeping hold of the transports:
 * the `out` end (a pipe consumer) on `from`, the `in` end (a pipe producer)
 * on `to`. Real mediasoup objects, standing in for an inter-node pipe where a
 * test has one node. NOTE: the pipe producer gets an id of its own, not the
 * producer's as pipeToRouter gives it: on one worker the two would clash.
 */
export async function pipeProducer(from: ms.Router, to: ms.Router, producer: ms.Producer): Promise<PipePair> {
	const out = await from.createPipeTransport({ listenIp: '127.0.0.1' });
	const into = await to.createPipeTransport({ listenIp: '127.0.0.1' });
	await out.connect({ ip: into.tuple.localIp, port: into.tuple.localPort });
	await into.connect({ ip: out.tuple.localIp, port: out.tuple.localPort });
	const consumer = await out.consume({ producerId: producer.id });
	const pipeProducer = await into.produce({ kind: consumer.kind, rtpParameters: consumer.rtpParameters, paused: consumer.producerPaused });
	return {
		out, in: into, pipeProducer,
		close() {
			out.close();
			into.close();
		},
	};
}

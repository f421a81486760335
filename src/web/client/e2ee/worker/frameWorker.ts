/**
 * The frame transform worker (bundled as /assets/e2ee-worker.js): every
 * sender's and receiver's RTCRtpScriptTransform runs here. A sender's frames
 * are sealed (SFrame, sframe.ts) with the page's current key and never leave
 * in the clear: without a key they are dropped. A receiver's frames are
 * opened with the key of their key id, or dropped: a frame that does not
 * open never reaches the decoder, so a participant with another key shows as
 * undecryptable, not as garbage or a frozen picture.
 */
import { KeyRing, ReplayWindow } from '../KeyRing';
import type { PageMessage, ReceiverState, TransformCounts, TransformOptions, WorkerMessage } from '../messages';
import { clearPrefix, open, parseHeader, seal } from '../sframe';

/** Frames in a row that do not open before a receiver is undecryptable (a fraction of a second of video or audio). */
const FAILURES_TO_MARK = 8;
const COUNTS_EVERY_MS = 1000;

type Frame = RTCEncodedVideoFrame | RTCEncodedAudioFrame;
type Transform = (frame: Frame, controller: TransformStreamDefaultController<Frame>) => Promise<void>;

const ring = new KeyRing();
const counts = new Map<string, TransformCounts>();

function post(message: WorkerMessage): void {
	self.postMessage(message);
}

self.onmessage = (event: MessageEvent<PageMessage>) => {
	const message = event.data;
	if (message?.type === 'key' && message.baseKey instanceof CryptoKey) {
		void ring.setBaseKey(message.baseKey).then(() => post({ type: 'keyInUse', generation: message.generation }));
	} else if (message?.type === 'sendKey' && message.baseKey instanceof CryptoKey && typeof message.kid === 'bigint') {
		void ring.setSendKey(message.baseKey, message.kid).then(() => post({ type: 'keyInUse', generation: message.generation }));
	} else if (message?.type === 'receiveKey' && message.baseKey instanceof CryptoKey && typeof message.kid === 'bigint') {
		ring.addReceiveKey(message.sender, message.kid, message.baseKey);
	} else if (message?.type === 'forget') {
		ring.forgetSender(message.sender);
	}
};

self.onrtctransform = (event: RTCTransformEvent) => {
	const { transformer } = event;
	const options = transformer.options as TransformOptions;
	const count: TransformCounts = { ...options, frames: 0, dropped: 0, bytesIn: 0, bytesOut: 0, cryptoMs: 0 };
	counts.set(options.id, count);
	const transform = options.side === 'send' ? sealer(count) : opener(count);
	transformer.readable
		.pipeThrough(new TransformStream<Frame, Frame>({ transform }))
		.pipeTo(transformer.writable)
		.catch(() => undefined)
		.finally(() => counts.delete(options.id));
};

setInterval(() => {
	if (counts.size > 0) {
		post({ type: 'counts', at: Date.now(), transforms: [...counts.values()] });
	}
}, COUNTS_EVERY_MS);

function isKeyFrame(frame: Frame): boolean {
	return 'type' in frame && frame.type === 'key';
}

function sealer(count: TransformCounts): Transform {
	return async (frame, controller) => {
		const data = new Uint8Array(frame.data);
		const send = ring.nextSend();
		if (!send) {
			count.dropped++;
			return;
		}
		const prefix = clearPrefix(count.kind, isKeyFrame(frame), data.length);
		const started = performance.now();
		const sealed = await seal(send.frameKey, send.kid, send.ctr, data.subarray(0, prefix), data.subarray(prefix));
		count.cryptoMs += performance.now() - started;
		count.frames++;
		count.bytesIn += data.length;
		count.bytesOut += sealed.length;
		frame.data = sealed.buffer as ArrayBuffer;
		controller.enqueue(frame);
	};
}

function opener(count: TransformCounts): Transform {
	const replay = new ReplayWindow();
	let state: ReceiverState | undefined;
	let failures = 0;
	const report = (next: ReceiverState) => {
		if (state !== next) {
			state = next;
			post({ type: 'receiver', id: count.id, state });
		}
	};
	const fail = () => {
		count.dropped++;
		if (++failures >= FAILURES_TO_MARK) {
			report('undecryptable');
		}
	};
	return async (frame, controller) => {
		const data = new Uint8Array(frame.data);
		const prefix = clearPrefix(count.kind, isKeyFrame(frame), data.length);
		const header = parseHeader(data, prefix);
		if (!header || !replay.fresh(header.kid, header.ctr)) {
			fail();
			return;
		}
		const started = performance.now();
		for (const frameKey of await ring.candidates(header.kid)) {
			const plaintext = await open(frameKey, data, prefix, header).catch(() => undefined);
			if (plaintext) {
				count.cryptoMs += performance.now() - started;
				replay.record(header.kid, header.ctr);
				count.frames++;
				count.bytesIn += data.length;
				count.bytesOut += plaintext.length;
				failures = 0;
				report('decrypting');
				frame.data = plaintext.buffer as ArrayBuffer;
				controller.enqueue(frame);
				return;
			}
		}
		count.cryptoMs += performance.now() - started;
		fail();
	};
}

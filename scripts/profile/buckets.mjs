#!/usr/bin/env node
// Sorts the samples of a `perf script -F comm,tid,ip,sym,dso` dump of the
// mediasoup worker into the parts of a forwarded packet's cost (docs/engine.md).
// A sample whose stack holds a system call or an SRTP call is that part,
// wherever its leaf is (the kernel's UDP path under sendmsg is the send's);
// otherwise the part of the frame nearest the leaf that names one.
//   perf script -i perf.data -F comm,tid,ip,sym,dso | node scripts/profile/buckets.mjs [--us-per-packet 10.8]
import readline from 'node:readline';
import { parseArgs } from 'node:util';

/** Parts a whole stack is charged to, when any frame matches: checked in this order. */
const BY_STACK = [
	['send: sendmsg, waking the receiver', /\bsock_def_readable\b/, /__sys_sendmsg|__x64_sys_sendto|udp_sendmsg/],
	['send: sendmsg, the rest of the kernel path', /__sys_sendmsg|__x64_sys_sendto|__x64_sys_sendmsg|udp_sendmsg/],
	['receive: recvmsg and the kernel path', /__sys_recvmsg|__x64_sys_recvmsg|__x64_sys_recvmmsg|udp_recvmsg/],
	['SRTP encrypt (srtp_protect)', /srtp_protect/],
	['SRTP decrypt (srtp_unprotect)', /srtp_unprotect/],
	['waiting: epoll_wait', /do_epoll_wait|epoll_wait/],
];
/** Parts of the frame nearest the leaf that matches, when no stack part did. */
const BY_FRAME = [
	['allocation (malloc, free, new, delete)', /malloc|_int_free|\bfree\b|cfree|operator new|operator delete|tcache/],
	['copies (memcpy, string assign, packet clone)', /memmove|memcpy|_M_assign|RtpPacket::Clone/],
	['RTP parsing', /RtpPacket::Parse|RtpPacket::RtpPacket|RtpPacket::ReadMid|RtpPacket::ReadRid/],
	['send-side congestion control and rate counters', /webrtc::|SendTimeHistory|RateCalculator|RtpDataCounter|TransportCongestionControl/],
	['retransmission buffer', /RtpRetransmissionBuffer/],
	['consumer loop and header rewriting', /Consumer|RtpStream|Router::|Producer::|Transport::|SeqManager|RtpPacket::/],
	['libuv, timers, the channel', /\buv_|libuv|Timer|Channel/],
];

const { values } = parseArgs({ options: { 'us-per-packet': { type: 'string' } } });
const usPerPacket = values['us-per-packet'] === undefined ? undefined : Number(values['us-per-packet']);

const counts = new Map();
let total = 0;
let frames = [];
const charge = () => {
	if (frames.length === 0) {
		return;
	}
	const stack = frames.join('\n');
	const part = BY_STACK.find(([, ...patterns]) => patterns.every((pattern) => pattern.test(stack)))?.[0]
		?? frames.map((frame) => BY_FRAME.find(([, pattern]) => pattern.test(frame))?.[0]).find(Boolean)
		?? (/kernel/.test(frames[0]) ? 'other: kernel (interrupts, scheduling)' : 'other: user space');
	counts.set(part, (counts.get(part) ?? 0) + 1);
	total++;
	frames = [];
};
for await (const line of readline.createInterface({ input: process.stdin })) {
	if (line.startsWith('\t')) {
		frames.push(line.trim());
	} else {
		charge();
	}
}
charge();

const rows = [...counts].sort((a, b) => b[1] - a[1]);
console.log(`${total} samples`);
console.log(`| part | share |${usPerPacket ? ' µs per forwarded packet |' : ''}`);
console.log(`|---|---|${usPerPacket ? '---|' : ''}`);
for (const [part, count] of rows) {
	const share = count / total;
	console.log(`| ${part} | ${(100 * share).toFixed(1)} % |${usPerPacket ? ` ${(share * usPerPacket).toFixed(2)} |` : ''}`);
}

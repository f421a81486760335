import { randomBytes } from 'node:crypto';
import { genericNack, receiverReport, ReceptionStats, senderReports } from '../../scripts/loadtest/rtcp';
import { SrtpReceiver, SrtpSender } from '../../scripts/loadtest/srtp';
import { bindingRequest, isStun, parseBindingResponse } from '../../scripts/loadtest/stun';

function rtp(seq: number, ssrc: number, payload: Buffer): Buffer {
	const header = Buffer.alloc(12);
	header[0] = 0x80;
	header[1] = 96;
	header.writeUInt16BE(seq, 2);
	header.writeUInt32BE(1000 + seq, 4);
	header.writeUInt32BE(ssrc, 8);
	return Buffer.concat([header, payload]);
}

// The WebRTC load receiver's pieces alone; webrtcLoad.test.ts runs them against mediasoup.
describe('WebRTC load receiver parts', () => {
	test.each([16, 32])('SRTP and SRTCP AES-GCM with %i-byte keys: what one side protects the other opens, a changed byte fails', (keyBytes) => {
		const key = randomBytes(keyBytes);
		const salt = randomBytes(12);
		const sender = new SrtpSender(key, salt);
		const receiver = new SrtpReceiver(key, salt);
		for (const seq of [65534, 65535, 0, 1]) {
			const plain = rtp(seq, 42, randomBytes(100));
			const protectedPacket = sender.protect(plain);
			expect(protectedPacket.subarray(12, 112).equals(plain.subarray(12))).toBe(false);
			// The rollover counter follows the wrap from 65535 to 0.
			expect(receiver.unprotect(protectedPacket)).toEqual(plain);
		}
		const tampered = sender.protect(rtp(2, 42, randomBytes(100)));
		tampered[20]! ^= 1;
		expect(receiver.unprotect(tampered)).toBeUndefined();
		const rr = receiverReport(7, []);
		expect(receiver.unprotectRtcp(sender.protectRtcp(rr))).toEqual(rr);
		const badRtcp = sender.protectRtcp(rr);
		badRtcp[badRtcp.length - 1]! ^= 1;
		expect(receiver.unprotectRtcp(badRtcp)).toBeUndefined();
	});

	test('a generic NACK packs 17 sequence numbers per item, across the wrap', () => {
		const nack = genericNack(1, 2, [65535, 0, 15, 16, 40]);
		expect(nack[1]).toBe(205);
		// Three items: the length is 2 + 1 + 3 words, less one.
		expect(nack.readUInt16BE(2)).toBe(5);
		// PID 65535 with bits for 0 (delta 1) and 15 (delta 16); 16 is past the mask, 40 is 24 past 16.
		const items = [12, 16, 20].map((at) => [nack.readUInt16BE(at), nack.readUInt16BE(at + 2)]);
		expect(items).toEqual([[65535, (1 << 0) | (1 << 15)], [16, 0], [40, 0]]);
	});

	test('reception statistics: gaps are reported missing, the report echoes the last sender report', () => {
		const stats = new ReceptionStats(9, 90_000);
		expect(stats.received(10, 0, 0)).toEqual([]);
		expect(stats.received(13, 3000, 33)).toEqual([11, 12]);
		stats.senderReport(0x12345678, 100);
		const block = stats.reportBlock(600)!;
		expect(block).toMatchObject({ ssrc: 9, highestSeq: 13, cumulativeLost: 2, lastSr: 0x12345678, delaySinceLastSr: 32768 });
		expect(block.fractionLost).toBe(128);
		const sr = Buffer.alloc(28);
		sr[0] = 0x80;
		sr[1] = 200;
		sr.writeUInt16BE(6, 2);
		sr.writeUInt32BE(9, 4);
		sr.writeUInt32BE(0xaabbccdd, 8);
		sr.writeUInt32BE(0xeeff0011, 12);
		expect(senderReports(Buffer.concat([sr, receiverReport(1, [block])]))).toEqual([{ ssrc: 9, ntpMiddle: 0xccddeeff }]);
	});

	test('a Binding request is STUN, and a response that fails MESSAGE-INTEGRITY is refused', () => {
		const request = bindingRequest({ remoteUfrag: 'r', localUfrag: 'l', password: 'pw', tieBreaker: randomBytes(8) });
		expect(isStun(request.packet)).toBe(true);
		// A request is no response.
		expect(parseBindingResponse(request.packet, 'pw')).toBeUndefined();
		const response = Buffer.from(request.packet);
		response.writeUInt16BE(0x0101, 0);
		expect(parseBindingResponse(response, 'other')).toMatchObject({ ok: false, error: 'MESSAGE-INTEGRITY did not verify' });
	});
});

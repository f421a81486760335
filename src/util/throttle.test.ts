import { throttle } from './throttle';

describe('throttle', () => {
	beforeEach(() => jest.useFakeTimers());
	afterEach(() => jest.useRealTimers());

	test('the first call goes through; later ones within the interval collapse into one trailing call with the latest arguments', () => {
		const calls: number[] = [];
		const t = throttle(1000, (n: number) => calls.push(n));
		t(1);
		t(2);
		t(3);
		expect(calls).toEqual([1]);
		jest.advanceTimersByTime(1000);
		expect(calls).toEqual([1, 3]);
	});

	test('cancel drops the held trailing call', () => {
		const calls: number[] = [];
		const t = throttle(1000, (n: number) => calls.push(n));
		t(1);
		t(2);
		t.cancel();
		jest.advanceTimersByTime(5000);
		expect(calls).toEqual([1]);
	});
});

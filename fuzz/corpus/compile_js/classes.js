class A { constructor(n) { this.n = n; } get double() { return this.n * 2; } }
const xs = [3, 1, 2].sort((a, b) => a - b).map(n => new A(n).double);
({ xs, s: JSON.stringify({ a: [1, { b: 2 }] }), r: /a(b+)c/.exec("xabbbc")[1] })

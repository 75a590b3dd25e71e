// Greets `ctx.name`. The script's result is its completion value: the object
// literal on the last line (in parentheses, so it is not read as a block).
const greeting = `Hello, ${ctx.name}!`;
({ greeting, length: greeting.length })

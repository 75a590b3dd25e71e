;; A WASI module built for a shared memory: it imports its memory
;; (`env.memory`, shared) instead of defining one (and exports it as
;; `memory`, which WASI needs), so every instance given the same
;; polyscript_wasm::SharedMemory sees the same bytes. The text
;; format is the source and what polyscript compiles (no build step).
;;
;; Layout of the shared memory (one 64 KiB page):
;;   0        flag: 0 until the producer has posted its message, then 1
;;   4        counter, added to by `count`
;;   128..133 the message ("hello")
;; Each export keeps its scratch space (WASI iovecs, digits) in its own
;; region, because instances run at the same time over the same memory and
;; have no stack of their own in it:
;;   consume 64..72, total 256..300
;;
;; Synchronisation: the message is written with plain stores and published
;; by an atomic store of the flag; the consumer waits with an atomic load in
;; a loop (every iteration is interruptible: the deadline and cancellation
;; stop it), never with memory.atomic.wait (refused by polyscript: it would
;; block where neither can reach it).
(module
  (import "wasi_snapshot_preview1" "fd_write"
    (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (import "env" "memory" (memory 1 1 shared))
  ;; WASI reads and writes through the module's `memory` export.
  (export "memory" (memory 0))

  ;; Writes "hello" at 128, then raises the flag.
  (func (export "produce")
    (i32.store8 (i32.const 128) (i32.const 104))
    (i32.store8 (i32.const 129) (i32.const 101))
    (i32.store8 (i32.const 130) (i32.const 108))
    (i32.store8 (i32.const 131) (i32.const 108))
    (i32.store8 (i32.const 132) (i32.const 111))
    (i32.atomic.store (i32.const 0) (i32.const 1)))

  ;; Waits for the flag, then writes the message to stdout (as the JSON
  ;; string "hello").
  (func (export "consume")
    (block $posted
      (loop $wait
        (br_if $posted (i32.eq (i32.atomic.load (i32.const 0)) (i32.const 1)))
        (br $wait)))
    ;; A JSON string: the quotes around the message, in scratch space.
    (i32.store8 (i32.const 80) (i32.const 34))
    (i32.store (i32.const 64) (i32.const 80))   ;; iovec 1: "\""
    (i32.store (i32.const 68) (i32.const 1))
    (drop (call $fd_write (i32.const 1) (i32.const 64) (i32.const 1) (i32.const 72)))
    (i32.store (i32.const 64) (i32.const 128))  ;; iovec 2: the message
    (i32.store (i32.const 68) (i32.const 5))
    (drop (call $fd_write (i32.const 1) (i32.const 64) (i32.const 1) (i32.const 72)))
    (i32.store (i32.const 64) (i32.const 80))   ;; iovec 3: "\""
    (i32.store (i32.const 68) (i32.const 1))
    (drop (call $fd_write (i32.const 1) (i32.const 64) (i32.const 1) (i32.const 72))))

  ;; Adds 1 to the counter 1000 times, atomically.
  (func (export "count") (local $i i32)
    (loop $again
      (drop (i32.atomic.rmw.add (i32.const 4) (i32.const 1)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $again (i32.lt_u (local.get $i) (i32.const 1000)))))

  ;; Writes the counter in decimal (digits built backwards from 299).
  (func (export "total") (local $n i32) (local $p i32)
    (local.set $n (i32.atomic.load (i32.const 4)))
    (local.set $p (i32.const 300))
    (loop $digit
      (local.set $p (i32.sub (local.get $p) (i32.const 1)))
      (i32.store8 (local.get $p)
        (i32.add (i32.const 48) (i32.rem_u (local.get $n) (i32.const 10))))
      (local.set $n (i32.div_u (local.get $n) (i32.const 10)))
      (br_if $digit (i32.ne (local.get $n) (i32.const 0))))
    (i32.store (i32.const 256) (local.get $p))
    (i32.store (i32.const 260) (i32.sub (i32.const 300) (local.get $p)))
    (drop (call $fd_write (i32.const 1) (i32.const 256) (i32.const 1) (i32.const 264))))
)

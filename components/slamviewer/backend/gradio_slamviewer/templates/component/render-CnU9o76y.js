const or = 1, cr = 2, hr = 4, _r = 8, dr = 16, vr = 2, gt = {}, m = /* @__PURE__ */ Symbol("uninitialized"), pr = "http://www.w3.org/1999/xhtml", yt = !1;
var en = Array.isArray, tn = Array.prototype.indexOf, ke = Array.prototype.includes, nn = Array.from, wt = Object.defineProperty, ye = Object.getOwnPropertyDescriptor, gr = Object.getOwnPropertyDescriptors, rn = Object.prototype, sn = Array.prototype, ln = Object.getPrototypeOf, at = Object.isExtensible;
const fn = () => {
};
function an(e) {
  for (var t = 0; t < e.length; t++)
    e[t]();
}
function mt() {
  var e, t, n = new Promise((r, s) => {
    e = r, t = s;
  });
  return { promise: n, resolve: e, reject: t };
}
function yr(e, t) {
  if (Array.isArray(e))
    return e;
  if (!(Symbol.iterator in e))
    return Array.from(e);
  const n = [];
  for (const r of e)
    if (n.push(r), n.length === t) break;
  return n;
}
const k = 2, ue = 4, He = 8, Et = 1 << 24, M = 16, q = 32, W = 64, $e = 128, Qe = 256, P = 512, E = 1024, y = 2048, C = 4096, O = 8192, x = 16384, he = 32768, De = 1 << 25, xe = 65536, Fe = 1 << 17, un = 1 << 18, _e = 1 << 19, on = 1 << 20, wr = 1 << 25, Pe = 1 << 21, fe = 1 << 22, K = 1 << 23, we = /* @__PURE__ */ Symbol("$state"), bt = /* @__PURE__ */ Symbol("component"), mr = /* @__PURE__ */ Symbol(""), cn = /* @__PURE__ */ Symbol("attributes"), hn = /* @__PURE__ */ Symbol("class"), _n = /* @__PURE__ */ Symbol("style"), Ge = /* @__PURE__ */ Symbol("text"), Oe = /* @__PURE__ */ Symbol("form reset"), Se = new class extends Error {
  name = "StaleReactionError";
  message = "The reaction that called `getAbortSignal()` was re-run or destroyed";
}();
function dn() {
  console.warn("https://svelte.dev/e/derived_inert");
}
function br() {
  console.warn("https://svelte.dev/e/select_multiple_invalid_value");
}
function vn() {
  console.warn("https://svelte.dev/e/svelte_boundary_reset_noop");
}
function kt(e) {
  return e === this.v;
}
function pn(e, t) {
  return e != e ? t == t : e !== t || e !== null && typeof e == "object" || typeof e == "function";
}
function xt(e) {
  return !pn(e, this.v);
}
function gn() {
  throw new Error("https://svelte.dev/e/async_derived_orphan");
}
function kr(e, t, n) {
  throw new Error("https://svelte.dev/e/each_key_duplicate");
}
function yn(e) {
  throw new Error("https://svelte.dev/e/effect_in_teardown");
}
function wn() {
  throw new Error("https://svelte.dev/e/effect_in_unowned_derived");
}
function mn(e) {
  throw new Error("https://svelte.dev/e/effect_orphan");
}
function En() {
  throw new Error("https://svelte.dev/e/effect_update_depth_exceeded");
}
function bn() {
  throw new Error("https://svelte.dev/e/state_descriptors_fixed");
}
function kn() {
  throw new Error("https://svelte.dev/e/state_prototype_fixed");
}
function xn() {
  throw new Error("https://svelte.dev/e/state_unsafe_mutation");
}
function Tn() {
  throw new Error("https://svelte.dev/e/svelte_boundary_reset_onerror");
}
let Sn = !1, S = null;
function oe(e) {
  S = e;
}
function An(e, t = !1, n) {
  S = {
    p: S,
    i: !1,
    c: null,
    e: null,
    s: e,
    x: null,
    r: (
      /** @type {Effect} */
      g
    ),
    l: null
  };
}
function Cn(e) {
  var t = (
    /** @type {ComponentContext} */
    S
  ), n = t.e;
  if (n !== null) {
    t.e = null;
    for (var r of n)
      Bt(r);
  }
  return e !== void 0 && (t.x = e), t.i = !0, S = t.p, Tt(e);
}
function Tt(e = {}) {
  return wt(e, bt, { value: !0 }), e;
}
function St() {
  return !0;
}
let te = [];
function At() {
  var e = te;
  te = [], an(e);
}
function G(e) {
  if (te.length === 0 && !me) {
    var t = te;
    queueMicrotask(() => {
      t === te && At();
    });
  }
  te.push(e);
}
function Rn() {
  for (; te.length > 0; )
    At();
}
const On = -7169;
function w(e, t) {
  e.f = e.f & On | t;
}
function et(e) {
  (e.f & P) !== 0 || e.deps === null ? w(e, E) : w(e, C);
}
function Ct(e, t) {
  (e.f & y) !== 0 ? t.set(e, y) : (e.f & C) !== 0 && t.get(e) !== y && t.set(e, C), w(e, E);
}
let ut = !1;
function Nn() {
  ut || (ut = !0, document.addEventListener(
    "reset",
    (e) => {
      Promise.resolve().then(() => {
        if (!e.defaultPrevented)
          for (
            const t of
            /**@type {HTMLFormElement} */
            e.target.elements
          )
            t[Oe]?.();
      });
    },
    // In the capture phase to guarantee we get noticed of it (no possibility of stopPropagation)
    { capture: !0 }
  ));
}
function de(e) {
  var t = v, n = g;
  N(null), B(null);
  try {
    return e();
  } finally {
    N(t), B(n);
  }
}
function xr(e, t, n, r = n) {
  e.addEventListener(t, () => de(n));
  const s = (
    /** @type {any} */
    e[Oe]
  );
  s ? e[Oe] = () => {
    s(), r(!0);
  } : e[Oe] = () => r(!0), Nn();
}
function Mn(e, t, n, r) {
  const s = tt;
  var i = e.filter((c) => !c.settled), f = t.map(s);
  if (n.length === 0 && i.length === 0) {
    r(f);
    return;
  }
  var l = (
    /** @type {Effect} */
    g
  ), a = Dn(), u = i.length === 1 ? i[0].promise : i.length > 1 ? Promise.all(i.map((c) => c.promise)) : null;
  function h(c) {
    if ((l.f & x) === 0) {
      a();
      try {
        r([...f, ...c]);
      } catch (d) {
        I(d, l);
      }
      Ie();
    }
  }
  var o = Rt();
  if (n.length === 0) {
    u.then(() => h([])).finally(o);
    return;
  }
  function _() {
    Promise.all(n.map((c) => /* @__PURE__ */ Fn(c))).then(h).catch((c) => I(c, l)).finally(o);
  }
  u ? u.then(() => {
    if ((l.f & x) !== 0) {
      o();
      return;
    }
    a(), _(), Ie();
  }) : _();
}
function Dn() {
  var e = (
    /** @type {Effect} */
    g
  ), t = v, n = S, r = (
    /** @type {Batch} */
    p
  );
  return function(i = !0) {
    B(e), N(t), oe(n), i && (e.f & x) === 0 && (r?.activate(), r?.apply());
  };
}
function Ie(e = !0) {
  B(null), N(null), oe(null), e && p?.deactivate();
}
function Rt() {
  var e = (
    /** @type {Effect} */
    g
  ), t = e.b, n = (
    /** @type {Batch} */
    p
  ), r = !!t?.is_rendered();
  return t?.update_pending_count(1, n), n.increment(r, e), () => {
    t?.update_pending_count(-1, n), n.decrement(r, e);
  };
}
// @__NO_SIDE_EFFECTS__
function tt(e) {
  var t = k | y;
  return g !== null && (g.f |= _e), {
    ctx: S,
    deps: null,
    effects: null,
    equals: kt,
    f: t,
    fn: e,
    reactions: null,
    rv: 0,
    v: (
      /** @type {V} */
      m
    ),
    wv: 0,
    parent: g,
    ac: null
  };
}
const ve = /* @__PURE__ */ Symbol("obsolete");
// @__NO_SIDE_EFFECTS__
function Fn(e, t, n) {
  let r = (
    /** @type {Effect | null} */
    g
  );
  r === null && gn();
  var s = (
    /** @type {Promise<V>} */
    /** @type {unknown} */
    void 0
  ), i = Ae(
    /** @type {V} */
    m
  ), f = !v, l = /* @__PURE__ */ new Set();
  return Gn(() => {
    var a = (
      /** @type {Effect} */
      g
    ), u = mt();
    s = u.promise;
    try {
      Promise.resolve(e()).then(u.resolve, (c) => {
        c !== Se && u.reject(c);
      }).finally(Ie);
    } catch (c) {
      u.reject(c), Ie();
    }
    var h = (
      /** @type {Batch} */
      p
    );
    if (f) {
      if ((a.f & he) !== 0)
        var o = Rt();
      if (
        // boundary can be null if the async derived is inside an $effect.root not connected to the component render tree
        r.b?.is_rendered()
      )
        h.async_deriveds.get(a)?.reject(ve);
      else
        for (const c of l.values())
          c.reject(ve);
      l.add(u), h.async_deriveds.set(a, u);
    }
    const _ = (c, d = void 0) => {
      o?.(), l.delete(u), d !== ve && (h.activate(), d ? (i.f |= K, je(i, d)) : ((i.f & K) !== 0 && (i.f ^= K), je(i, c)), h.deactivate());
    };
    u.promise.then(_, (c) => _(null, c || "unknown"));
  }), qt(() => {
    for (const a of l)
      a.reject(ve);
  }), new Promise((a) => {
    function u(h) {
      function o() {
        h === s ? a(i) : u(s);
      }
      h.then(o, o);
    }
    u(s);
  });
}
// @__NO_SIDE_EFFECTS__
function Tr(e) {
  const t = /* @__PURE__ */ tt(e);
  return $t(t), t;
}
// @__NO_SIDE_EFFECTS__
function Sr(e) {
  const t = /* @__PURE__ */ tt(e);
  return t.equals = xt, t;
}
function Pn(e) {
  var t = e.effects;
  if (t !== null) {
    e.effects = null;
    for (var n = 0; n < t.length; n += 1)
      j(
        /** @type {Effect} */
        t[n]
      );
  }
}
function nt(e) {
  var t, n = g, r = e.parent;
  if (!Z && r !== null && e.v !== m && // if it was never evaluated before, it's guaranteed to fail downstream, so we try to execute instead
  (r.f & (x | O)) !== 0)
    return dn(), e.v;
  B(r);
  try {
    Pn(e), t = Xt(e);
  } finally {
    B(n);
  }
  return t;
}
function Ot(e) {
  var t = nt(e);
  if (!e.equals(t) && (e.wv = Kt(), (!p?.is_fork || e.deps === null) && (p !== null ? (p.capture(e, t, !0), ae?.capture(e, t, !0)) : e.v = t, e.deps === null))) {
    w(e, E);
    return;
  }
  Z || (D !== null ? (lt() || p?.is_fork) && D.set(e, t) : et(e));
}
function In(e) {
  if (e.effects !== null)
    for (const t of e.effects)
      (t.teardown || t.ac) && (t.teardown?.(), t.ac !== null && de(() => {
        t.ac.abort(Se), t.ac = null;
      }), t.fn !== null && (t.teardown = fn), Te(t, 0), ft(t));
}
function Nt(e) {
  if (e.effects !== null)
    for (const t of e.effects)
      t.teardown && t.fn !== null && ce(t);
}
let Ye = null, le = null, p = null, ae = null, D = null, Ke = null, me = !1, Ue = !1, Ee = null, Ne = null;
var ot = 0;
let Ln = 1;
class X {
  id = Ln++;
  /** True as soon as `#process` was called */
  started = !1;
  linked = !0;
  /** @type {Batch | null} */
  prev = null;
  /** @type {Batch | null} */
  next = null;
  /** @type {Map<Effect, ReturnType<typeof deferred<any>>>} */
  async_deriveds = /* @__PURE__ */ new Map();
  /**
   * The current values of any signals that are updated in this batch.
   * Tuple format: [value, is_derived] (note: is_derived is false for deriveds, too, if they were overridden via assignment)
   * The keys of this map are identical to `this.previous`
   * @type {Map<Value, [any, boolean]>}
   */
  current = /* @__PURE__ */ new Map();
  /**
   * The values of any signals (sources and deriveds) that are updated in this batch _before_ those updates took place.
   * The keys of this map are identical to `this.current`
   * @type {Map<Value, any>}
   */
  previous = /* @__PURE__ */ new Map();
  /**
   * When the batch is committed (and the DOM is updated), we need to remove old branches
   * and append new ones by calling the functions added inside (if/each/key/etc) blocks
   * @type {Set<(batch: Batch) => void>}
   */
  #i = /* @__PURE__ */ new Set();
  /**
   * If a fork is discarded, we need to destroy any effects that are no longer needed
   * @type {Set<(batch: Batch) => void>}
   */
  #p = /* @__PURE__ */ new Set();
  /**
   * The number of async effects that are currently in flight
   */
  #l = 0;
  /**
   * Async effects that are currently in flight, _not_ inside a pending boundary
   * @type {Map<Effect, number>}
   */
  #f = /* @__PURE__ */ new Map();
  /**
   * A deferred that resolves when the batch is committed, used with `settled()`
   * TODO replace with Promise.withResolvers once supported widely enough
   * @type {{ promise: Promise<void>, resolve: (value?: any) => void, reject: (reason: unknown) => void } | null}
   */
  #t = null;
  /**
   * Effects that were scheduled in this batch but not yet 'resolved' into the
   * root effects that need to be flushed. Resolving — the upwards traversal that
   * marks the path to each effect on the shared effect tree (see #resolve) — is
   * deferred until the batch is processed, so that the markers are created and
   * consumed within a single traversal. Scheduling into other batches (which can
   * happen concurrently, e.g. while a batch is committed) can therefore never
   * observe (and be confused by) this batch's markers.
   * May contain duplicates — deduplication happens during resolving
   * @type {Effect[]}
   */
  #n = [];
  /**
   * Effects created while this batch was active.
   * @type {Effect[]}
   */
  #r = [];
  /**
   * Deferred effects (which run after async work has completed) and their status (DIRTY or MAYBE_DIRTY)
   * @type {Map<Effect, number>}
   */
  #e = /* @__PURE__ */ new Map();
  /**
   * A map of branches that still exist, but will be destroyed when this batch
   * is committed — we skip over these during `process`.
   * The value contains child effects that were dirty/maybe_dirty before being reset,
   * so they can be rescheduled if the branch survives.
   * @type {Map<Effect, { d: Effect[], m: Effect[] }>}
   */
  #s = /* @__PURE__ */ new Map();
  /**
   * Inverse of #skipped_branches which we need to tell prior batches to unskip them when committing
   * @type {Set<Effect>}
   */
  #h = /* @__PURE__ */ new Set();
  is_fork = !1;
  #a = !1;
  constructor() {
    le === null ? Ye = le = this : (le.next = this, this.prev = le), le = this;
  }
  #_() {
    if (this.is_fork) return !0;
    for (const t of this.#f.keys())
      if (!this.#g(t))
        return !0;
    return !1;
  }
  /**
   * Whether `effect` is inside a branch that this batch skips
   * @param {Effect} effect
   */
  #g(t) {
    for (var n = (
      /** @type {Effect | null} */
      t
    ); n !== null; n = n.parent)
      if (this.#s.has(n)) return !0;
    return !1;
  }
  /**
   * Add an effect to the #skipped_branches map and reset its children
   * @param {Effect} effect
   */
  skip_effect(t) {
    this.#s.has(t) || this.#s.set(t, { d: [], m: [] }), this.#h.delete(t);
  }
  /**
   * Remove an effect from the #skipped_branches map and reschedule
   * any tracked dirty/maybe_dirty child effects
   * @param {Effect} effect
   * @param {(e: Effect) => void} callback
   */
  unskip_effect(t, n = (r) => this.schedule(r)) {
    var r = this.#s.get(t);
    if (r) {
      this.#s.delete(t);
      for (var s of r.d)
        w(s, y), n(s);
      for (s of r.m)
        w(s, C), n(s);
    }
    this.#h.add(t);
  }
  /**
   * Convert the effects that were scheduled in this batch into the root effects
   * that need to be traversed, marking the path to each effect (by clearing the
   * `CLEAN` flag on ancestor branches) so that the traversal can find them.
   * This happens right before traversal rather than at scheduling time, so that
   * the markers left on the (shared) effect tree are created and consumed within
   * a single traversal — scheduling into other batches can never observe them
   * @returns {Effect[]}
   */
  #u() {
    var t = [];
    for (const i of this.#n)
      if (!((i.f & x) !== 0 || (i.f & (y | C)) === 0)) {
        for (var n = i, r = !1; n.parent !== null; ) {
          n = n.parent;
          var s = n.f;
          if ((s & (W | q)) !== 0) {
            if ((s & E) === 0) {
              r = !0;
              break;
            }
            n.f ^= E;
          }
        }
        r || t.push(n);
      }
    return this.#n = [], t;
  }
  #d() {
    this.started = !0;
    for (const [l, a] of this.#e)
      w(l, a), this.schedule(l);
    this.apply();
    for (var t = Ee = [], n = [], r = Ne = []; this.#n.length > 0; ) {
      ot++ > 1e3 && (this.#c(), Hn());
      for (const l of this.#u())
        try {
          this.#w(l, t, n);
        } catch (a) {
          throw Ft(l), this.#_() || this.discard(), a;
        }
    }
    if (p = null, r.length > 0) {
      var s = X.ensure();
      for (const l of r)
        s.schedule(l);
    }
    if (Ee = null, Ne = null, this.#_()) {
      this.#v(n), this.#v(t);
      for (const [l, a] of this.#s)
        Dt(l, a);
      r.length > 0 && /** @type {unknown} */
      p.#d();
      return;
    }
    const i = this.#b();
    if (i) {
      this.#v(n), this.#v(t), i.#o(this);
      return;
    }
    this.#e.clear();
    for (const l of this.#i) l(this);
    this.#i.clear(), ae = this, ct(n), ct(t), ae = null, this.#t?.resolve();
    var f = (
      /** @type {Batch | null} */
      /** @type {unknown} */
      p
    );
    this.#l === 0 && (this.#n.length === 0 || f !== null) && this.#c(), f !== null && (L.clear(), f.#d());
  }
  /**
   * Traverse the effect tree, executing effects or stashing
   * them for later execution as appropriate
   * @param {Effect} root
   * @param {Effect[]} effects
   * @param {Effect[]} render_effects
   */
  #w(t, n, r) {
    t.f ^= E;
    for (var s = t.first; s !== null; ) {
      var i = s.f, f = (i & (q | W)) !== 0, l = f && (i & E) !== 0, a = l || (i & O) !== 0 || this.#s.has(s);
      if (!a && s.fn !== null) {
        f ? s.f ^= E : (i & ue) !== 0 ? n.push(s) : Ce(s) && ((i & M) !== 0 && this.add_dirty_reaction(s, C), ce(s));
        var u = s.first;
        if (u !== null) {
          s = u;
          continue;
        }
      }
      for (; s !== null; ) {
        var h = s.next;
        if (h !== null) {
          s = h;
          break;
        }
        s = s.parent;
      }
    }
  }
  #b() {
    for (var t = this.prev; t !== null; t = t.prev)
      if (!t.is_fork && this.#y(t)) return t;
    return null;
  }
  /** @param {Batch} batch */
  #y(t) {
    for (const [n, [, r]] of this.current)
      if (!r && t.current.has(n))
        return !0;
    return !1;
  }
  /**
   * @param {Batch} batch
   */
  #o(t) {
    for (const [r, s] of t.current)
      !this.previous.has(r) && t.previous.has(r) && this.previous.set(r, t.previous.get(r)), this.current.set(r, s);
    for (const [r, s] of t.async_deriveds) {
      const i = this.async_deriveds.get(r);
      i && s.promise.then(i.resolve).catch(i.reject);
    }
    t.async_deriveds.clear(), this.transfer_reactions(t.#e);
    const n = (r) => {
      var s = r.reactions;
      if (s !== null && !((r.f & k) !== 0 && (r.f & (y | C)) === 0))
        for (const l of s) {
          var i = l.f;
          if ((i & k) !== 0)
            n(
              /** @type {Derived} */
              l
            );
          else {
            var f = (
              /** @type {Effect} */
              l
            );
            i & (fe | M) && !this.async_deriveds.has(f) && (this.#e.delete(f), w(f, y), this.schedule(f));
          }
        }
    };
    for (const r of this.current.keys())
      n(r);
    this.oncommit(() => t.discard()), t.#c(), p = this, this.#d();
  }
  /**
   * @param {Effect[]} effects
   */
  #v(t) {
    for (var n = 0; n < t.length; n += 1)
      Ct(t[n], this.#e);
  }
  /**
   * Associate a change to a given source with the current
   * batch, noting its previous and current values
   * @param {Value} source
   * @param {any} value
   * @param {boolean} [is_derived]
   */
  capture(t, n, r = !1) {
    t.v !== m && !this.previous.has(t) && this.previous.set(t, t.v), (t.f & K) === 0 && (this.current.set(t, [n, r]), D?.set(t, n)), this.is_fork || (t.v = n);
  }
  activate() {
    p = this;
  }
  deactivate() {
    p = null, D = null;
  }
  flush() {
    try {
      Ue = !0, p = this, this.#d();
    } finally {
      ot = 0, Ke = null, Ee = null, Ne = null, Ue = !1, p = null, D = null, L.clear();
    }
  }
  discard() {
    for (const t of this.#p) t(this);
    this.#p.clear();
    for (const t of this.async_deriveds.values())
      t.reject(ve);
    this.#c(), this.#t?.resolve();
  }
  /**
   * @param {Effect} effect
   */
  register_created_effect(t) {
    this.#r.push(t);
  }
  #m() {
    for (let o = Ye; o !== null; o = o.next) {
      var t = o.id < this.id, n = [];
      for (const [_, [c, d]] of this.current) {
        if (o.current.has(_)) {
          var r = (
            /** @type {[any, boolean]} */
            o.current.get(_)[0]
          );
          if (t && c !== r)
            o.current.set(_, [c, d]);
          else
            continue;
        }
        n.push(_);
      }
      if (t)
        for (const [_, c] of this.async_deriveds) {
          const d = o.async_deriveds.get(_);
          d && c.promise.then(d.resolve).catch(d.reject);
        }
      var s = [...o.current.keys()].filter(
        (_) => !/** @type {[any, boolean]} */
        o.current.get(_)[1]
      );
      if (!(!o.started || s.length === 0)) {
        var i = s.filter((_) => !this.current.has(_));
        if (i.length === 0)
          t && o.discard();
        else if (n.length > 0) {
          if (t)
            for (const _ of this.#h)
              o.unskip_effect(_, (c) => {
                (c.f & (M | fe)) !== 0 ? o.schedule(c) : o.#v([c]);
              });
          o.activate();
          var f = /* @__PURE__ */ new Set(), l = /* @__PURE__ */ new Map();
          for (var a of n)
            Mt(a, i, f, l);
          l = /* @__PURE__ */ new Map();
          var u = [...o.current].filter(([_, c]) => {
            const d = this.current.get(_);
            return d ? d[0] !== c[0] || d[1] !== c[1] : !0;
          }).map(([_]) => _);
          if (u.length > 0)
            for (const _ of this.#r)
              (_.f & (x | O | Fe)) === 0 && rt(_, u, l) && ((_.f & (fe | M)) !== 0 ? (w(_, y), o.schedule(_)) : o.add_dirty_reaction(_, y));
          if (o.#n.length > 0 && !o.#a) {
            o.apply();
            for (var h of o.#u())
              o.#w(h, [], []);
          }
          o.deactivate();
        }
      }
    }
  }
  /**
   * @param {boolean} blocking
   * @param {Effect} effect
   */
  increment(t, n) {
    if (this.#l += 1, t) {
      let r = this.#f.get(n) ?? 0;
      this.#f.set(n, r + 1);
    }
  }
  /**
   * @param {boolean} blocking
   * @param {Effect} effect
   */
  decrement(t, n) {
    if (this.#l -= 1, t) {
      let r = this.#f.get(n) ?? 0;
      r === 1 ? this.#f.delete(n) : this.#f.set(n, r - 1);
    }
    this.#a || (this.#a = !0, G(() => {
      this.#a = !1, this.linked && this.flush();
    }));
  }
  /**
   * @param {Map<Effect, number>} dirty_reactions
   */
  transfer_reactions(t) {
    for (const [n, r] of t)
      this.add_dirty_reaction(n, r);
    t.clear();
  }
  /**
   * @param {Effect} effect
   * @param {number} status
   */
  add_dirty_reaction(t, n) {
    (n === y || this.#e.get(t) !== y) && this.#e.set(t, n);
  }
  /** @param {(batch: Batch) => void} fn */
  oncommit(t) {
    this.#i.add(t);
  }
  /** @param {(batch: Batch) => void} fn */
  ondiscard(t) {
    this.#p.add(t);
  }
  settled() {
    return (this.#t ??= mt()).promise;
  }
  static ensure() {
    if (p === null) {
      const t = p = new X();
      !Ue && !me && G(() => {
        t.started || t.flush();
      });
    }
    return p;
  }
  apply() {
    {
      D = null;
      return;
    }
  }
  /**
   *
   * @param {Effect} effect
   */
  schedule(t) {
    if (Ke = t, t.b?.is_pending && (t.f & (ue | He | Et)) !== 0 && (t.f & he) === 0) {
      t.b.defer_effect(t);
      return;
    }
    this.#n.push(t);
  }
  #c() {
    if (this.linked) {
      var t = this.prev, n = this.next;
      t === null ? Ye = n : t.next = n, n === null ? le = t : n.prev = t, this.linked = !1;
    }
  }
}
function jn(e) {
  var t = me, n = ae;
  ae = null, me = !0;
  try {
    for (var r; ; ) {
      if (Rn(), p === null)
        return (
          /** @type {T} */
          r
        );
      p.flush();
    }
  } finally {
    me = t, ae = n;
  }
}
function Hn() {
  try {
    En();
  } catch (e) {
    I(e, Ke);
  }
}
let U = null;
function ct(e) {
  var t = e.length;
  if (t !== 0) {
    for (var n = 0; n < t; ) {
      var r = e[n++];
      if ((r.f & (x | O)) === 0 && Ce(r) && (U = /* @__PURE__ */ new Set(), ce(r), r.deps === null && r.first === null && r.nodes === null && r.teardown === null && r.ac === null && Ut(r), U?.size > 0)) {
        L.clear();
        for (const s of U) {
          if ((s.f & (x | O)) !== 0) continue;
          const i = [s];
          let f = s.parent;
          for (; f !== null; )
            U.has(f) && (U.delete(f), i.push(f)), f = f.parent;
          for (let l = i.length - 1; l >= 0; l--) {
            const a = i[l];
            (a.f & (x | O)) === 0 && ce(a);
          }
        }
        U.clear();
      }
    }
    U = null;
  }
}
function Mt(e, t, n, r) {
  if (!n.has(e) && (n.add(e), e.reactions !== null))
    for (const s of e.reactions) {
      const i = s.f;
      (i & k) !== 0 ? Mt(
        /** @type {Derived} */
        s,
        t,
        n,
        r
      ) : (i & (fe | M)) !== 0 && (i & y) === 0 && rt(s, t, r) && (w(s, y), st(
        /** @type {Effect} */
        s
      ));
    }
}
function rt(e, t, n) {
  const r = n.get(e);
  if (r !== void 0) return r;
  if (e.deps !== null)
    for (const s of e.deps) {
      if (ke.call(t, s))
        return !0;
      if ((s.f & k) !== 0 && rt(
        /** @type {Derived} */
        s,
        t,
        n
      ))
        return n.set(
          /** @type {Derived} */
          s,
          !0
        ), !0;
    }
  return n.set(e, !1), !1;
}
function st(e) {
  p.schedule(e);
}
function Dt(e, t) {
  if (!((e.f & q) !== 0 && (e.f & E) !== 0)) {
    (e.f & y) !== 0 ? t.d.push(e) : (e.f & C) !== 0 && t.m.push(e), w(e, E);
    for (var n = e.first; n !== null; )
      Dt(n, t), n = n.next;
  }
}
function Ft(e) {
  w(e, E);
  for (var t = e.first; t !== null; )
    Ft(t), t = t.next;
}
let Le = /* @__PURE__ */ new Set();
const L = /* @__PURE__ */ new Map();
let Pt = !1;
function Ae(e, t) {
  var n = {
    f: 0,
    v: e,
    reactions: null,
    equals: kt,
    rv: 0,
    wv: 0
  };
  return n;
}
// @__NO_SIDE_EFFECTS__
function $(e, t) {
  const n = Ae(e);
  return $t(n), n;
}
// @__NO_SIDE_EFFECTS__
function Ar(e, t = !1, n = !0) {
  const r = Ae(e);
  return t || (r.equals = xt), r;
}
function Q(e, t, n = !1) {
  v !== null && // since we are untracking the function inside `$inspect.with` we need to add this check
  // to ensure we error if state is set inside an inspect effect
  (!F || (v.f & Fe) !== 0) && St() && (v.f & (k | M | fe | Fe)) !== 0 && (H === null || !H.has(e)) && xn();
  let r = n ? pe(t) : t;
  return je(e, r, Ne);
}
var ee = null, We = 0;
function je(e, t, n = null) {
  if (!e.equals(t)) {
    Z ? L.set(e, t) : L.has(e) || L.set(e, e.v);
    var r = X.ensure();
    if (r.capture(e, t), (e.f & k) !== 0) {
      const s = (
        /** @type {Derived} */
        e
      );
      (e.f & y) !== 0 && nt(s), D === null && et(s);
    }
    e.wv = Kt(), ee = null, We = 0, It(e, y, n), ee = null, g !== null && (g.f & E) !== 0 && (g.f & (q | W)) === 0 && (R === null ? Qn([e]) : R.push(e)), !r.is_fork && Le.size > 0 && !Pt && qn();
  }
  return t;
}
function qn() {
  Pt = !1;
  for (const e of Le) {
    (e.f & E) !== 0 && w(e, C);
    let t;
    try {
      t = Ce(e);
    } catch {
      t = !0;
    }
    t && ce(e);
  }
  Le.clear();
}
function be(e) {
  Q(e, e.v + 1);
}
function It(e, t, n) {
  var r = e.reactions;
  if (r !== null) {
    var s = r.length;
    if (We += s, We > 1e5 && ee === null && (ee = /* @__PURE__ */ new Set()), ee !== null) {
      if (ee.has(e)) return;
      ee.add(e);
    }
    for (var i = 0; i < s; i++) {
      var f = r[i], l = f.f, a = (l & y) === 0;
      if (a && w(f, t), (l & Fe) !== 0)
        Le.add(
          /** @type {Effect} */
          f
        );
      else if ((l & k) !== 0) {
        var u = (
          /** @type {Derived} */
          f
        );
        D?.delete(u), It(u, C, n);
      } else if (a) {
        var h = (
          /** @type {Effect} */
          f
        );
        (l & M) !== 0 && U !== null && U.add(h), n !== null ? n.push(h) : st(h);
      }
    }
  }
}
function pe(e) {
  if (typeof e != "object" || e === null || we in e || bt in e)
    return e;
  const t = ln(e);
  if (t !== rn && t !== sn)
    return e;
  var n = /* @__PURE__ */ new Map(), r = en(e), s = /* @__PURE__ */ $(0), i = se, f = (l) => {
    if (se === i)
      return l();
    var a = v, u = se;
    N(null), vt(i);
    var h = l();
    return N(a), vt(u), h;
  };
  return r && n.set("length", /* @__PURE__ */ $(
    /** @type {any[]} */
    e.length
  )), new Proxy(
    /** @type {any} */
    e,
    {
      defineProperty(l, a, u) {
        (!("value" in u) || u.configurable === !1 || u.enumerable === !1 || u.writable === !1) && bn();
        var h = n.get(a);
        return h === void 0 ? f(() => {
          var o = /* @__PURE__ */ $(u.value);
          return n.set(a, o), o;
        }) : Q(h, u.value, !0), !0;
      },
      deleteProperty(l, a) {
        var u = n.get(a);
        if (u === void 0) {
          if (a in l) {
            const h = f(() => /* @__PURE__ */ $(m));
            n.set(a, h), be(s);
          }
        } else
          Q(u, m), be(s);
        return !0;
      },
      get(l, a, u) {
        if (a === we)
          return e;
        var h = n.get(a), o = a in l;
        if (h === void 0 && (!o || ye(l, a)?.writable) && (h = f(() => {
          var c = pe(o ? l[a] : m), d = /* @__PURE__ */ $(c);
          return d;
        }), n.set(a, h)), h !== void 0) {
          var _ = re(h);
          return _ === m ? void 0 : _;
        }
        return Reflect.get(l, a, u);
      },
      getOwnPropertyDescriptor(l, a) {
        this.has?.(l, a);
        var u = Reflect.getOwnPropertyDescriptor(l, a), h = n.get(a);
        if (h !== void 0) {
          var o = re(h);
          if (o === m)
            return;
          if (u && "value" in u)
            u.value = o;
          else
            return {
              enumerable: !0,
              configurable: !0,
              value: o,
              writable: !0
            };
        }
        return u;
      },
      has(l, a) {
        if (a === we)
          return !0;
        var u = n.get(a), h = u !== void 0 && u.v !== m || Reflect.has(l, a);
        if (u !== void 0 || (g !== null || v !== null) && (!h || ye(l, a)?.writable)) {
          u === void 0 && (u = f(() => {
            var _ = h ? pe(l[a]) : m, c = /* @__PURE__ */ $(_);
            return c;
          }), n.set(a, u));
          var o = re(u);
          if (o === m)
            return !1;
        }
        return h;
      },
      set(l, a, u, h) {
        var o = n.get(a), _ = a in l;
        if (r && a === "length")
          for (var c = u; c < /** @type {Source<number>} */
          o.v; c += 1) {
            var d = n.get(c + "");
            d !== void 0 ? Q(d, m) : c in l && (d = f(() => /* @__PURE__ */ $(m)), n.set(c + "", d));
          }
        if (o === void 0)
          (!_ || ye(l, a)?.writable) && (o = f(() => /* @__PURE__ */ $(void 0)), Q(o, pe(u)), n.set(a, o));
        else {
          _ = o.v !== m;
          var b = f(() => pe(u));
          Q(o, b);
        }
        var z = Reflect.getOwnPropertyDescriptor(l, a);
        if (z?.set && z.set.call(h, u), !_) {
          if (r && typeof a == "string") {
            var Y = (
              /** @type {Source<number>} */
              n.get("length")
            ), ie = Number(a);
            Number.isInteger(ie) && ie >= Y.v && Q(Y, ie + 1);
          }
          be(s);
        }
        return !0;
      },
      ownKeys(l) {
        re(s);
        var a = Reflect.ownKeys(l).filter((o) => {
          var _ = n.get(o);
          return _ === void 0 || _.v !== m;
        });
        for (var [u, h] of n)
          h.v !== m && !(u in l) && a.push(u);
        return a;
      },
      setPrototypeOf() {
        kn();
      }
    }
  );
}
function ht(e) {
  try {
    if (e !== null && typeof e == "object" && we in e)
      return e[we];
  } catch {
  }
  return e;
}
function Cr(e, t) {
  return Object.is(ht(e), ht(t));
}
var _t, Bn, Lt, jt;
function Yn() {
  if (_t === void 0) {
    _t = window, Bn = /Firefox/.test(navigator.userAgent);
    var e = Element.prototype, t = Node.prototype, n = Text.prototype;
    Lt = ye(t, "firstChild").get, jt = ye(t, "nextSibling").get, at(e) && (e[hn] = void 0, e[cn] = null, e[_n] = void 0, e.__e = void 0), at(n) && (n[Ge] = void 0);
  }
}
function Ht(e = "") {
  return document.createTextNode(e);
}
// @__NO_SIDE_EFFECTS__
function it(e) {
  return (
    /** @type {TemplateNode | null} */
    Lt.call(e)
  );
}
// @__NO_SIDE_EFFECTS__
function qe(e) {
  return (
    /** @type {TemplateNode | null} */
    jt.call(e)
  );
}
function Rr(e, t) {
  return /* @__PURE__ */ it(e);
}
function Or(e, t = !1) {
  {
    var n = /* @__PURE__ */ it(e);
    return n instanceof Comment && n.data === "" ? /* @__PURE__ */ qe(n) : n;
  }
}
function Nr(e, t = !1) {
  return /* @__PURE__ */ it(e);
}
function Mr(e, t = 1, n = !1) {
  let r = e;
  for (; t--; )
    r = /** @type {TemplateNode} */
    /* @__PURE__ */ qe(r);
  return r;
}
function Dr(e) {
  e.textContent = "";
}
function Fr() {
  return !1;
}
function Pr(e, t, n) {
  return (
    /** @type {T extends keyof HTMLElementTagNameMap ? HTMLElementTagNameMap[T] : Element} */
    n ? document.createElement(e, { is: n }) : document.createElement(e)
  );
}
function Un(e) {
  var t = g;
  if (t === null)
    return v.f |= K, e;
  if ((t.f & he) === 0 && (t.f & ue) === 0)
    throw e;
  I(e, t);
}
function I(e, t) {
  if (e === gt)
    throw e;
  if (!(t !== null && (t.f & x) !== 0)) {
    for (; t !== null; ) {
      if ((t.f & $e) !== 0 && (t.f & (x | De)) === 0) {
        if ((t.f & he) === 0)
          throw e;
        try {
          t.b.error(e);
          return;
        } catch (n) {
          e = n;
        }
      }
      t = t.parent;
    }
    throw e;
  }
}
function Vn(e) {
  g === null && (v === null && mn(), wn()), Z && yn();
}
function zn(e, t) {
  var n = t.last;
  n === null ? t.last = t.first = e : (n.next = e, e.prev = n, t.last = e);
}
function V(e, t) {
  var n = g;
  n !== null && (n.f & O) !== 0 && (e |= O);
  var r = {
    ctx: S,
    deps: null,
    nodes: null,
    f: e | y | P,
    first: null,
    fn: t,
    last: null,
    next: null,
    parent: n,
    b: n && n.b,
    prev: null,
    teardown: null,
    wv: 0,
    ac: null
  };
  p?.register_created_effect(r);
  var s = r;
  if ((e & ue) !== 0)
    Ee !== null ? Ee.push(r) : X.ensure().schedule(r);
  else if (t !== null) {
    try {
      ce(r);
    } catch (f) {
      throw j(r), f;
    }
    s.deps === null && s.teardown === null && s.nodes === null && s.first === s.last && // either `null`, or a singular child
    (s.f & _e) === 0 && (s = s.first, (e & M) !== 0 && (e & xe) !== 0 && s !== null && (s.f |= xe));
  }
  if (s !== null && (s.parent = n, n !== null && zn(s, n), v !== null && (v.f & k) !== 0 && (e & W) === 0)) {
    var i = (
      /** @type {Derived} */
      v
    );
    (i.effects ??= []).push(s);
  }
  return r;
}
function lt() {
  return v !== null && !F;
}
function qt(e) {
  const t = V(He, null);
  return w(t, E), t.teardown = e, t;
}
function Ir(e) {
  Vn();
  var t = (
    /** @type {Effect} */
    g.f
  ), n = !v && (t & q) !== 0 && S !== null && !S.i;
  if (n) {
    var r = (
      /** @type {ComponentContext} */
      S
    );
    (r.e ??= []).push(e);
  } else
    return Bt(e);
}
function Bt(e) {
  return V(ue | on, e);
}
function $n(e) {
  X.ensure();
  const t = V(W | _e, e);
  return (n = {}) => new Promise((r) => {
    n.outro ? Me(t, () => {
      j(t), r(void 0);
    }) : (j(t), r(void 0));
  });
}
function Lr(e) {
  return V(ue, e);
}
function Gn(e) {
  return V(fe | _e, e);
}
function Kn(e, t = 0) {
  return V(He | t, e);
}
function jr(e, t = [], n = [], r = []) {
  Mn(r, t, n, (s) => {
    V(He, () => {
      e(...s.map(re));
    });
  });
}
function Wn(e, t = 0) {
  var n = V(M | t, e);
  return n;
}
function J(e) {
  return V(q | _e, e);
}
function Yt(e) {
  var t = e.teardown;
  if (t !== null) {
    const n = Z, r = v;
    dt(!0), N(null);
    try {
      t.call(null);
    } catch (s) {
      I(s, e.parent);
    } finally {
      dt(n), N(r);
    }
  }
}
function ft(e, t = !1) {
  var n = e.first;
  for (e.first = e.last = null; n !== null; ) {
    const s = n.ac;
    s !== null && de(() => {
      s.abort(Se);
    });
    var r = n.next;
    (n.f & W) !== 0 ? n.parent = null : j(n, t), n = r;
  }
}
function Xn(e) {
  for (var t = e.first; t !== null; ) {
    var n = t.next;
    (t.f & q) === 0 && j(t), t = n;
  }
}
function j(e, t = !0) {
  var n = !1;
  (t || (e.f & un) !== 0) && e.nodes !== null && e.nodes.end !== null && (Zn(
    e.nodes.start,
    /** @type {TemplateNode} */
    e.nodes.end
  ), n = !0), e.f |= De, ft(e, t && !n), Te(e, 0);
  var r = e.nodes && e.nodes.t;
  if (r !== null)
    for (const i of r)
      i.stop();
  Yt(e), e.f ^= De, e.f |= x;
  var s = e.parent;
  s !== null && s.first !== null && Ut(e), e.next = e.prev = e.teardown = e.ctx = e.deps = e.fn = e.nodes = e.ac = e.b = null;
}
function Zn(e, t) {
  for (; e !== null; ) {
    var n = e === t ? null : /* @__PURE__ */ qe(e);
    e.remove(), e = n;
  }
}
function Ut(e) {
  var t = e.parent, n = e.prev, r = e.next;
  n !== null && (n.next = r), r !== null && (r.prev = n), t !== null && (t.first === e && (t.first = r), t.last === e && (t.last = n));
}
function Me(e, t, n = !0) {
  var r = [];
  e.f |= Qe, Vt(e, r, !0);
  var s = () => {
    n && j(e), t && t();
  }, i = r.length;
  if (i > 0) {
    var f = () => --i || s();
    for (var l of r)
      l.out(f);
  } else
    s();
}
function Vt(e, t, n) {
  if ((e.f & O) === 0) {
    e.f ^= O;
    var r = e.nodes && e.nodes.t;
    if (r !== null)
      for (const l of r)
        (l.is_global || n) && t.push(l);
    for (var s = e.first; s !== null; ) {
      var i = s.next;
      if ((s.f & W) === 0) {
        var f = (s.f & xe) !== 0 || // If this is a branch effect without a block effect parent,
        // it means the parent block effect was pruned. In that case,
        // transparency information was transferred to the branch effect.
        (s.f & q) !== 0 && (e.f & M) !== 0;
        Vt(s, t, f ? n : !1);
      }
      s = i;
    }
  }
}
function Hr(e) {
  e.f &= ~Qe, zt(e, !0);
}
function zt(e, t) {
  if ((e.f & Qe) === 0 && (e.f & O) !== 0) {
    e.f ^= O, (e.f & E) === 0 && (w(e, y), X.ensure().schedule(e));
    for (var n = e.first; n !== null; ) {
      var r = n.next, s = (n.f & xe) !== 0 || (n.f & q) !== 0;
      zt(n, s ? t : !1), n = r;
    }
    var i = e.nodes && e.nodes.t;
    if (i !== null)
      for (const f of i)
        (f.is_global || t) && f.in();
  }
}
function Jn(e, t) {
  if (e.nodes)
    for (var n = e.nodes.start, r = e.nodes.end; n !== null; ) {
      var s = n === r ? null : /* @__PURE__ */ qe(n);
      t.append(n), n = s;
    }
}
let Z = !1;
function dt(e) {
  Z = e;
}
let v = null, F = !1;
function N(e) {
  v = e;
}
let g = null;
function B(e) {
  g = e;
}
let H = null;
function $t(e) {
  v !== null && ((v.f & Pe) !== 0 || (v.f & k) !== 0) && (H ??= /* @__PURE__ */ new Set()).add(e);
}
let T = null, A = 0, R = null;
function Qn(e) {
  R = e;
}
let Gt = 1, ne = 0, se = ne;
function vt(e) {
  se = e;
}
function Kt() {
  return ++Gt;
}
function Ce(e) {
  var t = e.f;
  if ((t & y) !== 0)
    return !0;
  if ((t & C) !== 0) {
    for (var n = (
      /** @type {Value[]} */
      e.deps
    ), r = n.length, s = 0; s < r; s++) {
      var i = n[s];
      if (Ce(
        /** @type {Derived} */
        i
      ) && Ot(
        /** @type {Derived} */
        i
      ), i.wv > e.wv)
        return !0;
    }
    (t & P) !== 0 && // During time traveling we don't want to reset the status so that
    // traversal of the graph in the other batches still happens
    D === null && w(e, E);
  }
  return !1;
}
function Wt(e, t, n = !0) {
  var r = e.reactions;
  if (r !== null && !(H !== null && H.has(e)))
    for (var s = 0; s < r.length; s++) {
      var i = r[s];
      (i.f & k) !== 0 ? Wt(
        /** @type {Derived} */
        i,
        t,
        !1
      ) : t === i && (n ? w(i, y) : (i.f & E) !== 0 && w(i, C), st(
        /** @type {Effect} */
        i
      ));
    }
}
function Xt(e) {
  var t = T, n = A, r = R, s = v, i = H, f = S, l = F, a = se, u = e.f;
  T = /** @type {null | Value[]} */
  null, A = 0, R = null, v = (u & (q | W)) === 0 ? e : null, H = null, oe(e.ctx), F = !1, se = ++ne, e.ac !== null && (de(() => {
    e.ac.abort(Se);
  }), e.ac = null);
  try {
    e.f |= Pe;
    var h = (
      /** @type {Function} */
      e.fn
    ), o = h();
    e.f |= he;
    var _ = pt(e);
    if (St() && R !== null && !F && _ !== null && (e.f & (k | C | y)) === 0)
      for (var c = 0; c < /** @type {Source[]} */
      R.length; c++)
        Wt(
          R[c],
          /** @type {Effect} */
          e
        );
    if (s !== null && s !== e) {
      if (ne++, s.deps !== null)
        for (let d = 0; d < n; d += 1)
          s.deps[d].rv = ne;
      if (t !== null)
        for (const d of t)
          d.rv = ne;
      R !== null && (r === null ? r = R : r.push(.../** @type {Source[]} */
      R));
    }
    return (e.f & K) !== 0 && (e.f ^= K), o;
  } catch (d) {
    return pt(e), Un(d);
  } finally {
    e.f ^= Pe, T = t, A = n, R = r, v = s, H = i, oe(f), F = l, se = a;
  }
}
function pt(e) {
  var t = e.deps, n = p?.is_fork;
  if (T !== null) {
    var r;
    if (n || Te(e, A), t !== null && A > 0)
      for (t.length = A + T.length, r = 0; r < T.length; r++)
        t[A + r] = T[r];
    else
      e.deps = t = T;
    if (lt() && (e.f & P) !== 0)
      for (r = A; r < t.length; r++)
        (t[r].reactions ??= []).push(e);
  } else !n && t !== null && A < t.length && (Te(e, A), t.length = A);
  return t;
}
function er(e, t) {
  let n = t.reactions;
  if (n !== null) {
    var r = tn.call(n, e);
    if (r !== -1) {
      var s = n.length - 1;
      s === 0 ? n = t.reactions = null : (n[r] = n[s], n.pop());
    }
  }
  if (n === null && (t.f & k) !== 0 && // Destroying a child effect while updating a parent effect can cause a dependency to appear
  // to be unused, when in fact it is used by the currently-updating parent. Checking `new_deps`
  // allows us to skip the expensive work of disconnecting and immediately reconnecting it
  (T === null || !ke.call(T, t))) {
    var i = (
      /** @type {Derived} */
      t
    );
    (i.f & P) !== 0 && (i.f ^= P), i.v !== m && et(i), i.ac !== null && de(() => {
      i.ac.abort(Se), i.ac = null, w(i, y);
    }), In(i), Te(i, 0);
  }
}
function Te(e, t) {
  var n = e.deps;
  if (n !== null)
    for (var r = t; r < n.length; r++)
      er(e, n[r]);
}
function ce(e) {
  var t = e.f;
  if ((t & x) === 0) {
    w(e, E);
    var n = g;
    g = e;
    try {
      (t & (M | Et)) !== 0 ? Xn(e) : ft(e), Yt(e);
      var r = Xt(e);
      e.teardown = typeof r == "function" ? r : null, e.wv = Gt;
      var s;
      yt && Sn && (e.f & y) !== 0 && e.deps;
    } finally {
      g = n;
    }
  }
}
async function qr() {
  await Promise.resolve(), jn();
}
function re(e) {
  var t = e.f, n = (t & k) !== 0;
  if (v !== null && !F) {
    var r = g !== null && (g.f & x) !== 0;
    if (!r && (H === null || !H.has(e))) {
      var s = v.deps;
      if ((v.f & Pe) !== 0)
        e.rv < ne && (e.rv = ne, T === null && s !== null && s[A] === e ? A++ : T === null ? T = [e] : T.push(e));
      else {
        v.deps ??= [], ke.call(v.deps, e) || v.deps.push(e);
        var i = e.reactions;
        i === null ? e.reactions = [v] : ke.call(i, v) || i.push(v);
      }
    }
  }
  if (Z && L.has(e))
    return L.get(e);
  if (n) {
    var f = (
      /** @type {Derived} */
      e
    );
    if (Z) {
      var l = f.v;
      return ((f.f & E) === 0 && f.reactions !== null || Jt(f)) && (l = nt(f)), L.set(f, l), l;
    }
    var a = (f.f & P) === 0 && !F && v !== null && (v.f & P) !== 0, u = (f.f & he) === 0;
    Ce(f) && (a && (f.f |= P), Ot(f)), a && !u && (Nt(f), Zt(f));
  }
  if (D?.has(e))
    return D.get(e);
  if ((e.f & K) !== 0)
    throw e.v;
  return e.v;
}
function Zt(e) {
  if (e.f |= P, e.deps !== null)
    for (const n of e.deps) {
      var t = n.reactions;
      t === null ? n.reactions = [e] : ke.call(t, e) || t.push(e), (n.f & k) !== 0 && (n.f & P) === 0 && (Nt(
        /** @type {Derived} */
        n
      ), Zt(
        /** @type {Derived} */
        n
      ));
    }
}
function Jt(e) {
  if (e.v === m) return !0;
  if (e.deps === null) return !1;
  for (const t of e.deps)
    if (L.has(t) || (t.f & k) !== 0 && Jt(
      /** @type {Derived} */
      t
    ))
      return !0;
  return !1;
}
function tr(e) {
  var t = F;
  try {
    return F = !0, e();
  } finally {
    F = t;
  }
}
const ge = /* @__PURE__ */ Symbol("events"), Qt = /* @__PURE__ */ new Set(), Xe = /* @__PURE__ */ new Set();
function nr(e, t, n, r = {}) {
  function s(i) {
    if (r.capture || Ze.call(t, i), !i.cancelBubble)
      return de(() => n?.call(this, i));
  }
  return e.startsWith("pointer") || e.startsWith("touch") || e === "wheel" ? (s.__removed = !1, G(() => {
    s.__removed || t.addEventListener(e, s, r);
  })) : t.addEventListener(e, s, r), s;
}
function Br(e, t, n, r, s) {
  var i = { capture: r, passive: s }, f = nr(e, t, n, i);
  (t === document.body || // @ts-ignore
  t === window || // @ts-ignore
  t === document || // Firefox has quirky behavior, it can happen that we still get "canplay" events when the element is already removed
  t instanceof HTMLMediaElement) && qt(() => {
    f.__removed = !0, t.removeEventListener(e, f, i);
  });
}
function Yr(e, t, n) {
  (t[ge] ??= {})[e] = n;
}
function Ur(e) {
  for (var t = 0; t < e.length; t++)
    Qt.add(e[t]);
  for (var n of Xe)
    n(e);
}
let Ve = null, ze = !1;
function Ze(e) {
  var t = this, n = (
    /** @type {Node} */
    t.ownerDocument
  ), r = e.type, s = e.composedPath?.() || [], i = (
    /** @type {null | Element} */
    s[0] || e.target
  );
  Ve = e, ze || (ze = !0, setTimeout(() => {
    ze = !1, Ve = null;
  }));
  var f = 0, l = Ve === e && e[ge];
  if (l) {
    var a = s.indexOf(l);
    if (a !== -1 && (t === document || t === /** @type {any} */
    window)) {
      e[ge] = t;
      return;
    }
    var u = s.indexOf(t);
    if (u === -1)
      return;
    a <= u && (f = a);
  }
  if (i = /** @type {Element} */
  s[f] || e.target, i !== t) {
    wt(e, "currentTarget", {
      configurable: !0,
      get() {
        return i || n;
      }
    });
    var h = v, o = g;
    N(null), B(null);
    try {
      for (var _, c = []; i !== null && i !== t; ) {
        try {
          var d = i[ge]?.[r];
          d != null && (!/** @type {any} */
          i.disabled || // DOM could've been updated already by the time this is reached, so we check this as well
          // -> the target could not have been disabled because it emits the event in the first place
          e.target === i) && d.call(i, e);
        } catch (b) {
          _ ? c.push(b) : _ = b;
        }
        if (e.cancelBubble) break;
        f++, i = f < s.length ? (
          /** @type {Element} */
          s[f]
        ) : null;
      }
      if (_) {
        for (let b of c)
          queueMicrotask(() => {
            throw b;
          });
        throw _;
      }
    } finally {
      e[ge] = t, delete e.currentTarget, N(h), B(o);
    }
  }
}
const rr = ["touchstart", "touchmove"];
function sr(e) {
  return rr.includes(e);
}
function ir(e) {
  let t = 0, n = Ae(0), r;
  return () => {
    lt() && (re(n), Kn(() => (t === 0 && (r = tr(() => e(() => be(n)))), t += 1, () => {
      G(() => {
        t -= 1, t === 0 && (r?.(), r = void 0, be(n));
      });
    })));
  };
}
var lr = xe | _e;
function fr(e, t, n, r) {
  new ar(e, t, n, r);
}
class ar {
  /** @type {Boundary | null} */
  parent;
  is_pending = !1;
  /**
   * API-level transformError transform function. Transforms errors before they reach the `failed` snippet.
   * Inherited from parent boundary, or defaults to identity.
   * @type {(error: unknown) => unknown}
   */
  transform_error;
  /** @type {TemplateNode} */
  #i;
  /** @type {TemplateNode | null} */
  #p = null;
  /** @type {BoundaryProps} */
  #l;
  /** @type {((anchor: Node) => void)} */
  #f;
  /** @type {Effect} */
  #t;
  /** @type {Effect | null} */
  #n = null;
  /** @type {Effect | null} */
  #r = null;
  /** @type {Effect | null} */
  #e = null;
  /** @type {DocumentFragment | null} */
  #s = null;
  #h = 0;
  #a = 0;
  #_ = !1;
  /** @type {Map<Effect, number>} */
  #g = /* @__PURE__ */ new Map();
  /**
   * A source containing the number of pending async deriveds/expressions.
   * Only created if `$effect.pending()` is used inside the boundary,
   * otherwise updating the source results in needless `Batch.ensure()`
   * calls followed by no-op flushes
   * @type {Source<number> | null}
   */
  #u = null;
  #d = ir(() => (this.#u = Ae(this.#h), () => {
    this.#u = null;
  }));
  /**
   * @param {TemplateNode} node
   * @param {BoundaryProps} props
   * @param {((anchor: Node) => void)} children
   * @param {((error: unknown) => unknown) | undefined} [transform_error]
   */
  constructor(t, n, r, s) {
    this.#i = t, this.#l = n, this.#f = (i) => {
      var f = (
        /** @type {Effect} */
        g
      );
      f.b = this, f.f |= $e, r(i);
    }, this.parent = /** @type {Effect} */
    g.b, this.transform_error = s ?? this.parent?.transform_error ?? ((i) => i), this.#t = Wn(() => {
      this.#m();
    }, lr);
  }
  #w() {
    try {
      this.#n = J(() => this.#f(this.#i));
    } catch (t) {
      this.error(t);
    }
  }
  /**
   * @param {unknown} error The deserialized error from the server's hydration comment
   */
  #b(t) {
    const n = this.#l.failed, { reset: r, invoke_onerror: s } = this.#y(t);
    G(s), n && (this.#e = J(() => {
      n(
        this.#i,
        () => t,
        () => r
      );
    }));
  }
  /**
   * Creates the `reset` function for a failed boundary, along with a function
   * that invokes `onerror` with it (if provided)
   * @param {unknown} error
   * @returns {{ reset: () => void, invoke_onerror: () => void }}
   */
  #y(t) {
    var n = !1, r = !1;
    const s = () => {
      if (!this.#o()) {
        if (n) {
          vn();
          return;
        }
        n = !0, r && Tn(), this.#e !== null && Me(this.#e, () => {
          this.#e = null;
        }), this.#E(() => {
          this.#m();
        });
      }
    };
    return { reset: s, invoke_onerror: () => {
      if (!this.#o())
        try {
          r = !0, this.#l.onerror?.(t, s), r = !1;
        } catch (f) {
          I(f, this.#t && this.#t.parent);
        }
    } };
  }
  #o() {
    return (this.#t.f & (x | De)) !== 0;
  }
  #v() {
    const t = this.#l.pending;
    t && (this.is_pending = !0, this.#r = J(() => t(this.#i)), G(() => {
      if (!this.#o()) {
        var n = this.#s = document.createDocumentFragment(), r = Ht(), s = !1;
        if (n.append(r), this.#n = this.#E(() => {
          try {
            return J(() => this.#f(r));
          } catch (i) {
            try {
              this.error(i), s = !0;
            } catch (f) {
              I(f, this.#t.parent);
            }
            return null;
          }
        }), this.#n === null) {
          this.#s = null, s && this.#c(
            /** @type {Batch} */
            p
          );
          return;
        }
        this.#a === 0 && (this.#i.before(n), this.#s = null, Me(
          /** @type {Effect} */
          this.#r,
          () => {
            this.#r = null;
          }
        ), this.#c(
          /** @type {Batch} */
          p
        ));
      }
    }));
  }
  #m() {
    try {
      if (this.is_pending = this.has_pending_snippet(), this.#a = 0, this.#h = 0, this.#n = J(() => {
        this.#f(this.#i);
      }), this.#a > 0) {
        var t = this.#s = document.createDocumentFragment();
        Jn(this.#n, t);
        const n = (
          /** @type {(anchor: Node) => void} */
          this.#l.pending
        );
        this.#r = J(() => n(this.#i));
      } else
        this.#c(
          /** @type {Batch} */
          p
        );
    } catch (n) {
      this.error(n);
    }
  }
  /**
   * @param {Batch} batch
   */
  #c(t) {
    this.is_pending = !1, t.transfer_reactions(this.#g);
  }
  /**
   * Defer an effect inside a pending boundary until the boundary resolves
   * @param {Effect} effect
   */
  defer_effect(t) {
    Ct(t, this.#g);
  }
  /**
   * Returns `false` if the effect exists inside a boundary whose pending snippet is shown
   * @returns {boolean}
   */
  is_rendered() {
    return !this.is_pending && (!this.parent || this.parent.is_rendered());
  }
  has_pending_snippet() {
    return !!this.#l.pending;
  }
  /**
   * @template T
   * @param {() => T} fn
   */
  #E(t) {
    var n = g, r = v, s = S;
    B(this.#t), N(this.#t), oe(this.#t.ctx);
    try {
      return X.ensure(), t();
    } finally {
      B(n), N(r), oe(s);
    }
  }
  /**
   * Updates the pending count associated with the currently visible pending snippet,
   * if any, such that we can replace the snippet with content once work is done
   * @param {1 | -1} d
   * @param {Batch} batch
   */
  #k(t, n) {
    if (!this.has_pending_snippet()) {
      this.parent && this.parent.#k(t, n);
      return;
    }
    this.#a += t, this.#a === 0 && (this.#c(n), this.#r && Me(this.#r, () => {
      this.#r = null;
    }), this.#s && (this.#i.before(this.#s), this.#s = null));
  }
  /**
   * Update the source that powers `$effect.pending()` inside this boundary,
   * and controls when the current `pending` snippet (if any) is removed.
   * Do not call from inside the class
   * @param {1 | -1} d
   * @param {Batch} batch
   */
  update_pending_count(t, n) {
    this.#k(t, n), this.#h += t, !(!this.#u || this.#_) && (this.#_ = !0, G(() => {
      this.#_ = !1, this.#u && je(this.#u, this.#h);
    }));
  }
  get_effect_pending() {
    return this.#d(), re(
      /** @type {Source<number>} */
      this.#u
    );
  }
  /** @param {unknown} error */
  error(t) {
    if (t === gt || !this.#l.onerror && !this.#l.failed)
      throw t;
    p?.is_fork ? (this.#n && p.skip_effect(this.#n), this.#r && p.skip_effect(this.#r), this.#e && p.skip_effect(this.#e), p.oncommit(() => {
      this.#o() || this.#x(t);
    })) : this.#x(t);
  }
  /**
   * @param {unknown} error
   */
  #x(t) {
    this.#n && (j(this.#n), this.#n = null), this.#r && (j(this.#r), this.#r = null), this.#e && (j(this.#e), this.#e = null);
    let n = this.#l.failed;
    const r = (s) => {
      if (this.#o()) return;
      const { reset: i, invoke_onerror: f } = this.#y(s);
      f(), n && !this.#o() && (this.#e = this.#E(() => {
        try {
          return J(() => {
            var l = (
              /** @type {Effect} */
              g
            );
            l.b = this, l.f |= $e, n(
              this.#i,
              () => s,
              () => i
            );
          });
        } catch (l) {
          return I(
            l,
            /** @type {Effect} */
            this.#t.parent
          ), null;
        }
      }));
    };
    G(() => {
      if (!this.#o()) {
        var s;
        try {
          s = this.transform_error(t);
        } catch (i) {
          I(i, this.#t && this.#t.parent);
          return;
        }
        s !== null && typeof s == "object" && typeof /** @type {any} */
        s.then == "function" ? s.then(
          r,
          /** @param {unknown} e */
          (i) => I(i, this.#t && this.#t.parent)
        ) : r(s);
      }
    });
  }
}
function Vr(e, t) {
  var n = t == null ? "" : typeof t == "object" ? `${t}` : t;
  n !== /** @type {any} */
  (e[Ge] ??= e.nodeValue) && (e[Ge] = n, e.nodeValue = `${n}`);
}
function zr(e, t) {
  return ur(e, t);
}
const Re = /* @__PURE__ */ new Map();
function ur(e, { target: t, anchor: n, props: r = {}, events: s, context: i, intro: f = !0, transformError: l }) {
  Yn();
  var a = void 0, u = $n(() => {
    var h = n ?? t.appendChild(Ht());
    fr(
      /** @type {TemplateNode} */
      h,
      {
        pending: () => {
        }
      },
      (c) => {
        An({});
        var d = (
          /** @type {ComponentContext} */
          S
        );
        i && (d.c = i), s && (r.$$events = s), a = e(c, r) || Tt(), Cn();
      },
      l
    );
    var o = /* @__PURE__ */ new Set(), _ = (c) => {
      for (var d = 0; d < c.length; d++) {
        var b = c[d];
        if (!o.has(b)) {
          o.add(b);
          var z = sr(b);
          for (const Be of [t, document]) {
            var Y = Re.get(Be);
            Y === void 0 && (Y = /* @__PURE__ */ new Map(), Re.set(Be, Y));
            var ie = Y.get(b);
            ie === void 0 ? (Be.addEventListener(b, Ze, { passive: z }), Y.set(b, 1)) : Y.set(b, ie + 1);
          }
        }
      }
    };
    return _(nn(Qt)), Xe.add(_), () => {
      for (var c of o)
        for (const z of [t, document]) {
          var d = (
            /** @type {Map<string, number>} */
            Re.get(z)
          ), b = (
            /** @type {number} */
            d.get(c)
          );
          --b == 0 ? (z.removeEventListener(c, Ze), d.delete(c), d.size === 0 && Re.delete(z)) : d.set(c, b);
        }
      Xe.delete(_), h !== n && h.parentNode?.removeChild(h);
    };
  });
  return Je.set(a, u), a;
}
let Je = /* @__PURE__ */ new WeakMap();
function $r(e, t) {
  const n = Je.get(e);
  return n ? (Je.delete(e), n(t)) : Promise.resolve();
}
export {
  Tt as $,
  dr as A,
  Ar as B,
  Ae as C,
  cr as D,
  xe as E,
  x as F,
  G,
  q as H,
  O as I,
  _r as J,
  Dr as K,
  nn as L,
  qe as M,
  hn as N,
  qt as O,
  xr as P,
  Lr as Q,
  Cr as R,
  _n as S,
  vr as T,
  br as U,
  mr as V,
  cn as W,
  pr as X,
  gr as Y,
  Kn as Z,
  qr as _,
  it as a,
  De as a0,
  we as a1,
  fn as a2,
  lt as a3,
  ir as a4,
  $ as a5,
  pe as a6,
  Q as a7,
  Ur as a8,
  An as a9,
  Mr as aa,
  jr as ab,
  Vr as ac,
  Yr as ad,
  Br as ae,
  Cn as af,
  Tr as ag,
  Rr as ah,
  Nr as ai,
  yr as aj,
  Or as ak,
  zr as al,
  $r as am,
  Bn as b,
  Pr as c,
  g as d,
  Ht as e,
  j as f,
  ln as g,
  J as h,
  en as i,
  p as j,
  S as k,
  tr as l,
  Jn as m,
  Wn as n,
  rn as o,
  Me as p,
  hr as q,
  Hr as r,
  Fr as s,
  re as t,
  Ir as u,
  je as v,
  wr as w,
  kr as x,
  Sr as y,
  or as z
};

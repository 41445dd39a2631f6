const Wn = 2, at = {}, m = /* @__PURE__ */ Symbol("uninitialized"), ot = !1;
var Bt = Array.isArray, Ut = Array.prototype.indexOf, ge = Array.prototype.includes, qt = Array.from, ct = Object.defineProperty, _e = Object.getOwnPropertyDescriptor, Vt = Object.prototype, Ht = Array.prototype, zt = Object.getPrototypeOf, et = Object.isExtensible;
const $t = () => {
};
function Gt(e) {
  for (var t = 0; t < e.length; t++)
    e[t]();
}
function ht() {
  var e, t, n = new Promise((r, i) => {
    e = r, t = i;
  });
  return { promise: n, resolve: e, reject: t };
}
const k = 2, ye = 4, De = 8, dt = 1 << 24, C = 16, $ = 32, G = 64, qe = 128, Kt = 256, D = 512, b = 1024, y = 2048, A = 4096, j = 8192, x = 16384, oe = 32768, Te = 1 << 25, Ae = 65536, Re = 1 << 17, Wt = 1 << 18, ce = 1 << 19, Xt = 1 << 20, Oe = 1 << 21, fe = 1 << 22, z = 1 << 23, Ie = /* @__PURE__ */ Symbol("$state"), _t = /* @__PURE__ */ Symbol("component"), Zt = /* @__PURE__ */ Symbol("attributes"), Jt = /* @__PURE__ */ Symbol("class"), Qt = /* @__PURE__ */ Symbol("style"), Ve = /* @__PURE__ */ Symbol("text"), me = new class extends Error {
  name = "StaleReactionError";
  message = "The reaction that called `getAbortSignal()` was re-run or destroyed";
}();
function en() {
  console.warn("https://svelte.dev/e/derived_inert");
}
function tn() {
  console.warn("https://svelte.dev/e/svelte_boundary_reset_noop");
}
function vt(e) {
  return e === this.v;
}
function nn() {
  throw new Error("https://svelte.dev/e/async_derived_orphan");
}
function rn() {
  throw new Error("https://svelte.dev/e/effect_update_depth_exceeded");
}
function sn() {
  throw new Error("https://svelte.dev/e/state_descriptors_fixed");
}
function ln() {
  throw new Error("https://svelte.dev/e/state_prototype_fixed");
}
function fn() {
  throw new Error("https://svelte.dev/e/state_unsafe_mutation");
}
function un() {
  throw new Error("https://svelte.dev/e/svelte_boundary_reset_onerror");
}
let an = !1, P = null;
function ue(e) {
  P = e;
}
function on(e, t = !1, n) {
  P = {
    p: P,
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
function cn(e) {
  var t = (
    /** @type {ComponentContext} */
    P
  ), n = t.e;
  if (n !== null) {
    t.e = null;
    for (var r of n)
      On(r);
  }
  return t.i = !0, P = t.p, pt(e);
}
function pt(e = {}) {
  return ct(e, _t, { value: !0 }), e;
}
function gt() {
  return !0;
}
let le = [];
function hn() {
  var e = le;
  le = [], Gt(e);
}
function J(e) {
  if (le.length === 0) {
    var t = le;
    queueMicrotask(() => {
      t === le && hn();
    });
  }
  le.push(e);
}
const dn = -7169;
function w(e, t) {
  e.f = e.f & dn | t;
}
function Ke(e) {
  (e.f & D) !== 0 || e.deps === null ? w(e, b) : w(e, A);
}
function yt(e, t) {
  (e.f & y) !== 0 ? t.set(e, y) : (e.f & A) !== 0 && t.get(e) !== y && t.set(e, A), w(e, b);
}
function Pe(e) {
  var t = v, n = g;
  O(null), B(null);
  try {
    return e();
  } finally {
    O(t), B(n);
  }
}
function _n(e, t, n, r) {
  const i = pn;
  var s = e.filter((c) => !c.settled), u = t.map(i);
  if (n.length === 0 && s.length === 0) {
    r(u);
    return;
  }
  var l = (
    /** @type {Effect} */
    g
  ), f = vn(), a = s.length === 1 ? s[0].promise : s.length > 1 ? Promise.all(s.map((c) => c.promise)) : null;
  function h(c) {
    if ((l.f & x) === 0) {
      f();
      try {
        r([...u, ...c]);
      } catch (_) {
        M(_, l);
      }
      Ce();
    }
  }
  var o = wt();
  if (n.length === 0) {
    a.then(() => h([])).finally(o);
    return;
  }
  function d() {
    Promise.all(n.map((c) => /* @__PURE__ */ gn(c))).then(h).catch((c) => M(c, l)).finally(o);
  }
  a ? a.then(() => {
    if ((l.f & x) !== 0) {
      o();
      return;
    }
    f(), d(), Ce();
  }) : d();
}
function vn() {
  var e = (
    /** @type {Effect} */
    g
  ), t = v, n = P, r = (
    /** @type {Batch} */
    p
  );
  return function(s = !0) {
    B(e), O(t), ue(n), s && (e.f & x) === 0 && (r?.activate(), r?.apply());
  };
}
function Ce(e = !0) {
  B(null), O(null), ue(null), e && p?.deactivate();
}
function wt() {
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
function pn(e) {
  var t = k | y;
  return g !== null && (g.f |= ce), {
    ctx: P,
    deps: null,
    effects: null,
    equals: vt,
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
const he = /* @__PURE__ */ Symbol("obsolete");
// @__NO_SIDE_EFFECTS__
function gn(e, t, n) {
  let r = (
    /** @type {Effect | null} */
    g
  );
  r === null && nn();
  var i = (
    /** @type {Promise<V>} */
    /** @type {unknown} */
    void 0
  ), s = Me(
    /** @type {V} */
    m
  ), u = !v, l = /* @__PURE__ */ new Set();
  return Nn(() => {
    var f = (
      /** @type {Effect} */
      g
    ), a = ht();
    i = a.promise;
    try {
      Promise.resolve(e()).then(a.resolve, (c) => {
        c !== me && a.reject(c);
      }).finally(Ce);
    } catch (c) {
      a.reject(c), Ce();
    }
    var h = (
      /** @type {Batch} */
      p
    );
    if (u) {
      if ((f.f & oe) !== 0)
        var o = wt();
      if (
        // boundary can be null if the async derived is inside an $effect.root not connected to the component render tree
        r.b?.is_rendered()
      )
        h.async_deriveds.get(f)?.reject(he);
      else
        for (const c of l.values())
          c.reject(he);
      l.add(a), h.async_deriveds.set(f, a);
    }
    const d = (c, _ = void 0) => {
      o?.(), l.delete(a), _ !== he && (h.activate(), _ ? (s.f |= z, Fe(s, _)) : ((s.f & z) !== 0 && (s.f ^= z), Fe(s, c)), h.deactivate());
    };
    a.promise.then(d, (c) => d(null, c || "unknown"));
  }), Rn(() => {
    for (const f of l)
      f.reject(he);
  }), new Promise((f) => {
    function a(h) {
      function o() {
        h === i ? f(s) : a(i);
      }
      h.then(o, o);
    }
    a(i);
  });
}
function yn(e) {
  var t = e.effects;
  if (t !== null) {
    e.effects = null;
    for (var n = 0; n < t.length; n += 1)
      L(
        /** @type {Effect} */
        t[n]
      );
  }
}
function We(e) {
  var t, n = g, r = e.parent;
  if (!re && r !== null && e.v !== m && // if it was never evaluated before, it's guaranteed to fail downstream, so we try to execute instead
  (r.f & (x | j)) !== 0)
    return en(), e.v;
  B(r);
  try {
    yn(e), t = It(e);
  } finally {
    B(n);
  }
  return t;
}
function mt(e) {
  var t = We(e);
  if (!e.equals(t) && (e.wv = Mt(), (!p?.is_fork || e.deps === null) && (p !== null ? (p.capture(e, t, !0), He?.capture(e, t, !0)) : e.v = t, e.deps === null))) {
    w(e, b);
    return;
  }
  re || (N !== null ? (Je() || p?.is_fork) && N.set(e, t) : Ke(e));
}
function wn(e) {
  if (e.effects !== null)
    for (const t of e.effects)
      (t.teardown || t.ac) && (t.teardown?.(), t.ac !== null && Pe(() => {
        t.ac.abort(me), t.ac = null;
      }), t.fn !== null && (t.teardown = $t), we(t, 0), Qe(t));
}
function bt(e) {
  if (e.effects !== null)
    for (const t of e.effects)
      t.teardown && t.fn !== null && ae(t);
}
let Le = null, se = null, p = null, He = null, N = null, ze = null, Ye = !1, ve = null, xe = null;
var tt = 0;
let mn = 1;
class ne {
  id = mn++;
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
  #s = /* @__PURE__ */ new Set();
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
  #i = /* @__PURE__ */ new Map();
  /**
   * Inverse of #skipped_branches which we need to tell prior batches to unskip them when committing
   * @type {Set<Effect>}
   */
  #h = /* @__PURE__ */ new Set();
  is_fork = !1;
  #u = !1;
  constructor() {
    se === null ? Le = se = this : (se.next = this, this.prev = se), se = this;
  }
  #d() {
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
      if (this.#i.has(n)) return !0;
    return !1;
  }
  /**
   * Add an effect to the #skipped_branches map and reset its children
   * @param {Effect} effect
   */
  skip_effect(t) {
    this.#i.has(t) || this.#i.set(t, { d: [], m: [] }), this.#h.delete(t);
  }
  /**
   * Remove an effect from the #skipped_branches map and reschedule
   * any tracked dirty/maybe_dirty child effects
   * @param {Effect} effect
   * @param {(e: Effect) => void} callback
   */
  unskip_effect(t, n = (r) => this.schedule(r)) {
    var r = this.#i.get(t);
    if (r) {
      this.#i.delete(t);
      for (var i of r.d)
        w(i, y), n(i);
      for (i of r.m)
        w(i, A), n(i);
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
  #a() {
    var t = [];
    for (const s of this.#n)
      if (!((s.f & x) !== 0 || (s.f & (y | A)) === 0)) {
        for (var n = s, r = !1; n.parent !== null; ) {
          n = n.parent;
          var i = n.f;
          if ((i & (G | $)) !== 0) {
            if ((i & b) === 0) {
              r = !0;
              break;
            }
            n.f ^= b;
          }
        }
        r || t.push(n);
      }
    return this.#n = [], t;
  }
  #_() {
    this.started = !0;
    for (const [l, f] of this.#e)
      w(l, f), this.schedule(l);
    this.apply();
    for (var t = ve = [], n = [], r = xe = []; this.#n.length > 0; ) {
      tt++ > 1e3 && (this.#c(), bn());
      for (const l of this.#a())
        try {
          this.#w(l, t, n);
        } catch (f) {
          throw xt(l), this.#d() || this.discard(), f;
        }
    }
    if (p = null, r.length > 0) {
      var i = ne.ensure();
      for (const l of r)
        i.schedule(l);
    }
    if (ve = null, xe = null, this.#d()) {
      this.#v(n), this.#v(t);
      for (const [l, f] of this.#i)
        kt(l, f);
      r.length > 0 && /** @type {unknown} */
      p.#_();
      return;
    }
    const s = this.#E();
    if (s) {
      this.#v(n), this.#v(t), s.#o(this);
      return;
    }
    this.#e.clear();
    for (const l of this.#s) l(this);
    this.#s.clear(), He = this, nt(n), nt(t), He = null, this.#t?.resolve();
    var u = (
      /** @type {Batch | null} */
      /** @type {unknown} */
      p
    );
    this.#l === 0 && (this.#n.length === 0 || u !== null) && this.#c(), u !== null && (I.clear(), u.#_());
  }
  /**
   * Traverse the effect tree, executing effects or stashing
   * them for later execution as appropriate
   * @param {Effect} root
   * @param {Effect[]} effects
   * @param {Effect[]} render_effects
   */
  #w(t, n, r) {
    t.f ^= b;
    for (var i = t.first; i !== null; ) {
      var s = i.f, u = (s & ($ | G)) !== 0, l = u && (s & b) !== 0, f = l || (s & j) !== 0 || this.#i.has(i);
      if (!f && i.fn !== null) {
        u ? i.f ^= b : (s & ye) !== 0 ? n.push(i) : be(i) && ((s & C) !== 0 && this.add_dirty_reaction(i, A), ae(i));
        var a = i.first;
        if (a !== null) {
          i = a;
          continue;
        }
      }
      for (; i !== null; ) {
        var h = i.next;
        if (h !== null) {
          i = h;
          break;
        }
        i = i.parent;
      }
    }
  }
  #E() {
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
    for (const [r, i] of t.current)
      !this.previous.has(r) && t.previous.has(r) && this.previous.set(r, t.previous.get(r)), this.current.set(r, i);
    for (const [r, i] of t.async_deriveds) {
      const s = this.async_deriveds.get(r);
      s && i.promise.then(s.resolve).catch(s.reject);
    }
    t.async_deriveds.clear(), this.transfer_reactions(t.#e);
    const n = (r) => {
      var i = r.reactions;
      if (i !== null && !((r.f & k) !== 0 && (r.f & (y | A)) === 0))
        for (const l of i) {
          var s = l.f;
          if ((s & k) !== 0)
            n(
              /** @type {Derived} */
              l
            );
          else {
            var u = (
              /** @type {Effect} */
              l
            );
            s & (fe | C) && !this.async_deriveds.has(u) && (this.#e.delete(u), w(u, y), this.schedule(u));
          }
        }
    };
    for (const r of this.current.keys())
      n(r);
    this.oncommit(() => t.discard()), t.#c(), p = this, this.#_();
  }
  /**
   * @param {Effect[]} effects
   */
  #v(t) {
    for (var n = 0; n < t.length; n += 1)
      yt(t[n], this.#e);
  }
  /**
   * Associate a change to a given source with the current
   * batch, noting its previous and current values
   * @param {Value} source
   * @param {any} value
   * @param {boolean} [is_derived]
   */
  capture(t, n, r = !1) {
    t.v !== m && !this.previous.has(t) && this.previous.set(t, t.v), (t.f & z) === 0 && (this.current.set(t, [n, r]), N?.set(t, n)), this.is_fork || (t.v = n);
  }
  activate() {
    p = this;
  }
  deactivate() {
    p = null, N = null;
  }
  flush() {
    try {
      Ye = !0, p = this, this.#_();
    } finally {
      tt = 0, ze = null, ve = null, xe = null, Ye = !1, p = null, N = null, I.clear();
    }
  }
  discard() {
    for (const t of this.#p) t(this);
    this.#p.clear();
    for (const t of this.async_deriveds.values())
      t.reject(he);
    this.#c(), this.#t?.resolve();
  }
  /**
   * @param {Effect} effect
   */
  register_created_effect(t) {
    this.#r.push(t);
  }
  #m() {
    for (let o = Le; o !== null; o = o.next) {
      var t = o.id < this.id, n = [];
      for (const [d, [c, _]] of this.current) {
        if (o.current.has(d)) {
          var r = (
            /** @type {[any, boolean]} */
            o.current.get(d)[0]
          );
          if (t && c !== r)
            o.current.set(d, [c, _]);
          else
            continue;
        }
        n.push(d);
      }
      if (t)
        for (const [d, c] of this.async_deriveds) {
          const _ = o.async_deriveds.get(d);
          _ && c.promise.then(_.resolve).catch(_.reject);
        }
      var i = [...o.current.keys()].filter(
        (d) => !/** @type {[any, boolean]} */
        o.current.get(d)[1]
      );
      if (!(!o.started || i.length === 0)) {
        var s = i.filter((d) => !this.current.has(d));
        if (s.length === 0)
          t && o.discard();
        else if (n.length > 0) {
          if (t)
            for (const d of this.#h)
              o.unskip_effect(d, (c) => {
                (c.f & (C | fe)) !== 0 ? o.schedule(c) : o.#v([c]);
              });
          o.activate();
          var u = /* @__PURE__ */ new Set(), l = /* @__PURE__ */ new Map();
          for (var f of n)
            Et(f, s, u, l);
          l = /* @__PURE__ */ new Map();
          var a = [...o.current].filter(([d, c]) => {
            const _ = this.current.get(d);
            return _ ? _[0] !== c[0] || _[1] !== c[1] : !0;
          }).map(([d]) => d);
          if (a.length > 0)
            for (const d of this.#r)
              (d.f & (x | j | Re)) === 0 && Xe(d, a, l) && ((d.f & (fe | C)) !== 0 ? (w(d, y), o.schedule(d)) : o.add_dirty_reaction(d, y));
          if (o.#n.length > 0 && !o.#u) {
            o.apply();
            for (var h of o.#a())
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
    this.#u || (this.#u = !0, J(() => {
      this.#u = !1, this.linked && this.flush();
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
    this.#s.add(t);
  }
  /** @param {(batch: Batch) => void} fn */
  ondiscard(t) {
    this.#p.add(t);
  }
  settled() {
    return (this.#t ??= ht()).promise;
  }
  static ensure() {
    if (p === null) {
      const t = p = new ne();
      Ye || J(() => {
        t.started || t.flush();
      });
    }
    return p;
  }
  apply() {
    {
      N = null;
      return;
    }
  }
  /**
   *
   * @param {Effect} effect
   */
  schedule(t) {
    if (ze = t, t.b?.is_pending && (t.f & (ye | De | dt)) !== 0 && (t.f & oe) === 0) {
      t.b.defer_effect(t);
      return;
    }
    this.#n.push(t);
  }
  #c() {
    if (this.linked) {
      var t = this.prev, n = this.next;
      t === null ? Le = n : t.next = n, n === null ? se = t : n.prev = t, this.linked = !1;
    }
  }
}
function bn() {
  try {
    rn();
  } catch (e) {
    M(e, ze);
  }
}
let q = null;
function nt(e) {
  var t = e.length;
  if (t !== 0) {
    for (var n = 0; n < t; ) {
      var r = e[n++];
      if ((r.f & (x | j)) === 0 && be(r) && (q = /* @__PURE__ */ new Set(), ae(r), r.deps === null && r.first === null && r.nodes === null && r.teardown === null && r.ac === null && Ft(r), q?.size > 0)) {
        I.clear();
        for (const i of q) {
          if ((i.f & (x | j)) !== 0) continue;
          const s = [i];
          let u = i.parent;
          for (; u !== null; )
            q.has(u) && (q.delete(u), s.push(u)), u = u.parent;
          for (let l = s.length - 1; l >= 0; l--) {
            const f = s[l];
            (f.f & (x | j)) === 0 && ae(f);
          }
        }
        q.clear();
      }
    }
    q = null;
  }
}
function Et(e, t, n, r) {
  if (!n.has(e) && (n.add(e), e.reactions !== null))
    for (const i of e.reactions) {
      const s = i.f;
      (s & k) !== 0 ? Et(
        /** @type {Derived} */
        i,
        t,
        n,
        r
      ) : (s & (fe | C)) !== 0 && (s & y) === 0 && Xe(i, t, r) && (w(i, y), Ze(
        /** @type {Effect} */
        i
      ));
    }
}
function Xe(e, t, n) {
  const r = n.get(e);
  if (r !== void 0) return r;
  if (e.deps !== null)
    for (const i of e.deps) {
      if (ge.call(t, i))
        return !0;
      if ((i.f & k) !== 0 && Xe(
        /** @type {Derived} */
        i,
        t,
        n
      ))
        return n.set(
          /** @type {Derived} */
          i,
          !0
        ), !0;
    }
  return n.set(e, !1), !1;
}
function Ze(e) {
  p.schedule(e);
}
function kt(e, t) {
  if (!((e.f & $) !== 0 && (e.f & b) !== 0)) {
    (e.f & y) !== 0 ? t.d.push(e) : (e.f & A) !== 0 && t.m.push(e), w(e, b);
    for (var n = e.first; n !== null; )
      kt(n, t), n = n.next;
  }
}
function xt(e) {
  w(e, b);
  for (var t = e.first; t !== null; )
    xt(t), t = t.next;
}
let Ne = /* @__PURE__ */ new Set();
const I = /* @__PURE__ */ new Map();
let St = !1;
function Me(e, t) {
  var n = {
    f: 0,
    v: e,
    reactions: null,
    equals: vt,
    rv: 0,
    wv: 0
  };
  return n;
}
// @__NO_SIDE_EFFECTS__
function H(e, t) {
  const n = Me(e);
  return In(n), n;
}
function X(e, t, n = !1) {
  v !== null && // since we are untracking the function inside `$inspect.with` we need to add this check
  // to ensure we error if state is set inside an inspect effect
  (!F || (v.f & Re) !== 0) && gt() && (v.f & (k | C | fe | Re)) !== 0 && (Y === null || !Y.has(e)) && fn();
  let r = n ? de(t) : t;
  return Fe(e, r, xe);
}
var Z = null, $e = 0;
function Fe(e, t, n = null) {
  if (!e.equals(t)) {
    re ? I.set(e, t) : I.has(e) || I.set(e, e.v);
    var r = ne.ensure();
    if (r.capture(e, t), (e.f & k) !== 0) {
      const i = (
        /** @type {Derived} */
        e
      );
      (e.f & y) !== 0 && We(i), N === null && Ke(i);
    }
    e.wv = Mt(), Z = null, $e = 0, Tt(e, y, n), Z = null, g !== null && (g.f & b) !== 0 && (g.f & ($ | G)) === 0 && (R === null ? Ln([e]) : R.push(e)), !r.is_fork && Ne.size > 0 && !St && En();
  }
  return t;
}
function En() {
  St = !1;
  for (const e of Ne) {
    (e.f & b) !== 0 && w(e, A);
    let t;
    try {
      t = be(e);
    } catch {
      t = !0;
    }
    t && ae(e);
  }
  Ne.clear();
}
function pe(e) {
  X(e, e.v + 1);
}
function Tt(e, t, n) {
  var r = e.reactions;
  if (r !== null) {
    var i = r.length;
    if ($e += i, $e > 1e5 && Z === null && (Z = /* @__PURE__ */ new Set()), Z !== null) {
      if (Z.has(e)) return;
      Z.add(e);
    }
    for (var s = 0; s < i; s++) {
      var u = r[s], l = u.f, f = (l & y) === 0;
      if (f && w(u, t), (l & Re) !== 0)
        Ne.add(
          /** @type {Effect} */
          u
        );
      else if ((l & k) !== 0) {
        var a = (
          /** @type {Derived} */
          u
        );
        N?.delete(a), Tt(a, A, n);
      } else if (f) {
        var h = (
          /** @type {Effect} */
          u
        );
        (l & C) !== 0 && q !== null && q.add(h), n !== null ? n.push(h) : Ze(h);
      }
    }
  }
}
function de(e) {
  if (typeof e != "object" || e === null || Ie in e || _t in e)
    return e;
  const t = zt(e);
  if (t !== Vt && t !== Ht)
    return e;
  var n = /* @__PURE__ */ new Map(), r = Bt(e), i = /* @__PURE__ */ H(0), s = te, u = (l) => {
    if (te === s)
      return l();
    var f = v, a = te;
    O(null), st(s);
    var h = l();
    return O(f), st(a), h;
  };
  return r && n.set("length", /* @__PURE__ */ H(
    /** @type {any[]} */
    e.length
  )), new Proxy(
    /** @type {any} */
    e,
    {
      defineProperty(l, f, a) {
        (!("value" in a) || a.configurable === !1 || a.enumerable === !1 || a.writable === !1) && sn();
        var h = n.get(f);
        return h === void 0 ? u(() => {
          var o = /* @__PURE__ */ H(a.value);
          return n.set(f, o), o;
        }) : X(h, a.value, !0), !0;
      },
      deleteProperty(l, f) {
        var a = n.get(f);
        if (a === void 0) {
          if (f in l) {
            const h = u(() => /* @__PURE__ */ H(m));
            n.set(f, h), pe(i);
          }
        } else
          X(a, m), pe(i);
        return !0;
      },
      get(l, f, a) {
        if (f === Ie)
          return e;
        var h = n.get(f), o = f in l;
        if (h === void 0 && (!o || _e(l, f)?.writable) && (h = u(() => {
          var c = de(o ? l[f] : m), _ = /* @__PURE__ */ H(c);
          return _;
        }), n.set(f, h)), h !== void 0) {
          var d = ee(h);
          return d === m ? void 0 : d;
        }
        return Reflect.get(l, f, a);
      },
      getOwnPropertyDescriptor(l, f) {
        this.has?.(l, f);
        var a = Reflect.getOwnPropertyDescriptor(l, f), h = n.get(f);
        if (h !== void 0) {
          var o = ee(h);
          if (o === m)
            return;
          if (a && "value" in a)
            a.value = o;
          else
            return {
              enumerable: !0,
              configurable: !0,
              value: o,
              writable: !0
            };
        }
        return a;
      },
      has(l, f) {
        if (f === Ie)
          return !0;
        var a = n.get(f), h = a !== void 0 && a.v !== m || Reflect.has(l, f);
        if (a !== void 0 || (g !== null || v !== null) && (!h || _e(l, f)?.writable)) {
          a === void 0 && (a = u(() => {
            var d = h ? de(l[f]) : m, c = /* @__PURE__ */ H(d);
            return c;
          }), n.set(f, a));
          var o = ee(a);
          if (o === m)
            return !1;
        }
        return h;
      },
      set(l, f, a, h) {
        var o = n.get(f), d = f in l;
        if (r && f === "length")
          for (var c = a; c < /** @type {Source<number>} */
          o.v; c += 1) {
            var _ = n.get(c + "");
            _ !== void 0 ? X(_, m) : c in l && (_ = u(() => /* @__PURE__ */ H(m)), n.set(c + "", _));
          }
        if (o === void 0)
          (!d || _e(l, f)?.writable) && (o = u(() => /* @__PURE__ */ H(void 0)), X(o, de(a)), n.set(f, o));
        else {
          d = o.v !== m;
          var E = u(() => de(a));
          X(o, E);
        }
        var V = Reflect.getOwnPropertyDescriptor(l, f);
        if (V?.set && V.set.call(h, a), !d) {
          if (r && typeof f == "string") {
            var U = (
              /** @type {Source<number>} */
              n.get("length")
            ), ie = Number(f);
            Number.isInteger(ie) && ie >= U.v && X(U, ie + 1);
          }
          pe(i);
        }
        return !0;
      },
      ownKeys(l) {
        ee(i);
        var f = Reflect.ownKeys(l).filter((o) => {
          var d = n.get(o);
          return d === void 0 || d.v !== m;
        });
        for (var [a, h] of n)
          h.v !== m && !(a in l) && f.push(a);
        return f;
      },
      setPrototypeOf() {
        ln();
      }
    }
  );
}
var rt, kn, At, Rt;
function xn() {
  if (rt === void 0) {
    rt = window, kn = /Firefox/.test(navigator.userAgent);
    var e = Element.prototype, t = Node.prototype, n = Text.prototype;
    At = _e(t, "firstChild").get, Rt = _e(t, "nextSibling").get, et(e) && (e[Jt] = void 0, e[Zt] = null, e[Qt] = void 0, e.__e = void 0), et(n) && (n[Ve] = void 0);
  }
}
function Ot(e = "") {
  return document.createTextNode(e);
}
// @__NO_SIDE_EFFECTS__
function Sn(e) {
  return (
    /** @type {TemplateNode | null} */
    At.call(e)
  );
}
// @__NO_SIDE_EFFECTS__
function Ct(e) {
  return (
    /** @type {TemplateNode | null} */
    Rt.call(e)
  );
}
function Zn(e, t = !1) {
  return /* @__PURE__ */ Sn(e);
}
function Jn(e, t, n) {
  return (
    /** @type {T extends keyof HTMLElementTagNameMap ? HTMLElementTagNameMap[T] : Element} */
    n ? document.createElement(e, { is: n }) : document.createElement(e)
  );
}
function Tn(e) {
  var t = g;
  if (t === null)
    return v.f |= z, e;
  if ((t.f & oe) === 0 && (t.f & ye) === 0)
    throw e;
  M(e, t);
}
function M(e, t) {
  if (e === at)
    throw e;
  if (!(t !== null && (t.f & x) !== 0)) {
    for (; t !== null; ) {
      if ((t.f & qe) !== 0 && (t.f & (x | Te)) === 0) {
        if ((t.f & oe) === 0)
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
function An(e, t) {
  var n = t.last;
  n === null ? t.last = t.first = e : (n.next = e, e.prev = n, t.last = e);
}
function K(e, t) {
  var n = g;
  n !== null && (n.f & j) !== 0 && (e |= j);
  var r = {
    ctx: P,
    deps: null,
    nodes: null,
    f: e | y | D,
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
  var i = r;
  if ((e & ye) !== 0)
    ve !== null ? ve.push(r) : ne.ensure().schedule(r);
  else if (t !== null) {
    try {
      ae(r);
    } catch (u) {
      throw L(r), u;
    }
    i.deps === null && i.teardown === null && i.nodes === null && i.first === i.last && // either `null`, or a singular child
    (i.f & ce) === 0 && (i = i.first, (e & C) !== 0 && (e & Ae) !== 0 && i !== null && (i.f |= Ae));
  }
  if (i !== null && (i.parent = n, n !== null && An(i, n), v !== null && (v.f & k) !== 0 && (e & G) === 0)) {
    var s = (
      /** @type {Derived} */
      v
    );
    (s.effects ??= []).push(i);
  }
  return r;
}
function Je() {
  return v !== null && !F;
}
function Rn(e) {
  const t = K(De, null);
  return w(t, b), t.teardown = e, t;
}
function On(e) {
  return K(ye | Xt, e);
}
function Cn(e) {
  ne.ensure();
  const t = K(G | ce, e);
  return (n = {}) => new Promise((r) => {
    n.outro ? Se(t, () => {
      L(t), r(void 0);
    }) : (L(t), r(void 0));
  });
}
function Nn(e) {
  return K(fe | ce, e);
}
function Fn(e, t = 0) {
  return K(De | t, e);
}
function Qn(e, t = [], n = [], r = []) {
  _n(r, t, n, (i) => {
    K(De, () => {
      e(...i.map(ee));
    });
  });
}
function Dn(e, t = 0) {
  var n = K(C | t, e);
  return n;
}
function W(e) {
  return K($ | ce, e);
}
function Nt(e) {
  var t = e.teardown;
  if (t !== null) {
    const n = re, r = v;
    it(!0), O(null);
    try {
      t.call(null);
    } catch (i) {
      M(i, e.parent);
    } finally {
      it(n), O(r);
    }
  }
}
function Qe(e, t = !1) {
  var n = e.first;
  for (e.first = e.last = null; n !== null; ) {
    const i = n.ac;
    i !== null && Pe(() => {
      i.abort(me);
    });
    var r = n.next;
    (n.f & G) !== 0 ? n.parent = null : L(n, t), n = r;
  }
}
function Pn(e) {
  for (var t = e.first; t !== null; ) {
    var n = t.next;
    (t.f & $) === 0 && L(t), t = n;
  }
}
function L(e, t = !0) {
  var n = !1;
  (t || (e.f & Wt) !== 0) && e.nodes !== null && e.nodes.end !== null && (Mn(
    e.nodes.start,
    /** @type {TemplateNode} */
    e.nodes.end
  ), n = !0), e.f |= Te, Qe(e, t && !n), we(e, 0);
  var r = e.nodes && e.nodes.t;
  if (r !== null)
    for (const s of r)
      s.stop();
  Nt(e), e.f ^= Te, e.f |= x;
  var i = e.parent;
  i !== null && i.first !== null && Ft(e), e.next = e.prev = e.teardown = e.ctx = e.deps = e.fn = e.nodes = e.ac = e.b = null;
}
function Mn(e, t) {
  for (; e !== null; ) {
    var n = e === t ? null : /* @__PURE__ */ Ct(e);
    e.remove(), e = n;
  }
}
function Ft(e) {
  var t = e.parent, n = e.prev, r = e.next;
  n !== null && (n.next = r), r !== null && (r.prev = n), t !== null && (t.first === e && (t.first = r), t.last === e && (t.last = n));
}
function Se(e, t, n = !0) {
  var r = [];
  e.f |= Kt, Dt(e, r, !0);
  var i = () => {
    n && L(e), t && t();
  }, s = r.length;
  if (s > 0) {
    var u = () => --s || i();
    for (var l of r)
      l.out(u);
  } else
    i();
}
function Dt(e, t, n) {
  if ((e.f & j) === 0) {
    e.f ^= j;
    var r = e.nodes && e.nodes.t;
    if (r !== null)
      for (const l of r)
        (l.is_global || n) && t.push(l);
    for (var i = e.first; i !== null; ) {
      var s = i.next;
      if ((i.f & G) === 0) {
        var u = (i.f & Ae) !== 0 || // If this is a branch effect without a block effect parent,
        // it means the parent block effect was pruned. In that case,
        // transparency information was transferred to the branch effect.
        (i.f & $) !== 0 && (e.f & C) !== 0;
        Dt(i, t, u ? n : !1);
      }
      i = s;
    }
  }
}
function jn(e, t) {
  if (e.nodes)
    for (var n = e.nodes.start, r = e.nodes.end; n !== null; ) {
      var i = n === r ? null : /* @__PURE__ */ Ct(n);
      t.append(n), n = i;
    }
}
let re = !1;
function it(e) {
  re = e;
}
let v = null, F = !1;
function O(e) {
  v = e;
}
let g = null;
function B(e) {
  g = e;
}
let Y = null;
function In(e) {
  v !== null && ((v.f & Oe) !== 0 || (v.f & k) !== 0) && (Y ??= /* @__PURE__ */ new Set()).add(e);
}
let S = null, T = 0, R = null;
function Ln(e) {
  R = e;
}
let Pt = 1, Q = 0, te = Q;
function st(e) {
  te = e;
}
function Mt() {
  return ++Pt;
}
function be(e) {
  var t = e.f;
  if ((t & y) !== 0)
    return !0;
  if ((t & A) !== 0) {
    for (var n = (
      /** @type {Value[]} */
      e.deps
    ), r = n.length, i = 0; i < r; i++) {
      var s = n[i];
      if (be(
        /** @type {Derived} */
        s
      ) && mt(
        /** @type {Derived} */
        s
      ), s.wv > e.wv)
        return !0;
    }
    (t & D) !== 0 && // During time traveling we don't want to reset the status so that
    // traversal of the graph in the other batches still happens
    N === null && w(e, b);
  }
  return !1;
}
function jt(e, t, n = !0) {
  var r = e.reactions;
  if (r !== null && !(Y !== null && Y.has(e)))
    for (var i = 0; i < r.length; i++) {
      var s = r[i];
      (s.f & k) !== 0 ? jt(
        /** @type {Derived} */
        s,
        t,
        !1
      ) : t === s && (n ? w(s, y) : (s.f & b) !== 0 && w(s, A), Ze(
        /** @type {Effect} */
        s
      ));
    }
}
function It(e) {
  var t = S, n = T, r = R, i = v, s = Y, u = P, l = F, f = te, a = e.f;
  S = /** @type {null | Value[]} */
  null, T = 0, R = null, v = (a & ($ | G)) === 0 ? e : null, Y = null, ue(e.ctx), F = !1, te = ++Q, e.ac !== null && (Pe(() => {
    e.ac.abort(me);
  }), e.ac = null);
  try {
    e.f |= Oe;
    var h = (
      /** @type {Function} */
      e.fn
    ), o = h();
    e.f |= oe;
    var d = lt(e);
    if (gt() && R !== null && !F && d !== null && (e.f & (k | A | y)) === 0)
      for (var c = 0; c < /** @type {Source[]} */
      R.length; c++)
        jt(
          R[c],
          /** @type {Effect} */
          e
        );
    if (i !== null && i !== e) {
      if (Q++, i.deps !== null)
        for (let _ = 0; _ < n; _ += 1)
          i.deps[_].rv = Q;
      if (t !== null)
        for (const _ of t)
          _.rv = Q;
      R !== null && (r === null ? r = R : r.push(.../** @type {Source[]} */
      R));
    }
    return (e.f & z) !== 0 && (e.f ^= z), o;
  } catch (_) {
    return lt(e), Tn(_);
  } finally {
    e.f ^= Oe, S = t, T = n, R = r, v = i, Y = s, ue(u), F = l, te = f;
  }
}
function lt(e) {
  var t = e.deps, n = p?.is_fork;
  if (S !== null) {
    var r;
    if (n || we(e, T), t !== null && T > 0)
      for (t.length = T + S.length, r = 0; r < S.length; r++)
        t[T + r] = S[r];
    else
      e.deps = t = S;
    if (Je() && (e.f & D) !== 0)
      for (r = T; r < t.length; r++)
        (t[r].reactions ??= []).push(e);
  } else !n && t !== null && T < t.length && (we(e, T), t.length = T);
  return t;
}
function Yn(e, t) {
  let n = t.reactions;
  if (n !== null) {
    var r = Ut.call(n, e);
    if (r !== -1) {
      var i = n.length - 1;
      i === 0 ? n = t.reactions = null : (n[r] = n[i], n.pop());
    }
  }
  if (n === null && (t.f & k) !== 0 && // Destroying a child effect while updating a parent effect can cause a dependency to appear
  // to be unused, when in fact it is used by the currently-updating parent. Checking `new_deps`
  // allows us to skip the expensive work of disconnecting and immediately reconnecting it
  (S === null || !ge.call(S, t))) {
    var s = (
      /** @type {Derived} */
      t
    );
    (s.f & D) !== 0 && (s.f ^= D), s.v !== m && Ke(s), s.ac !== null && Pe(() => {
      s.ac.abort(me), s.ac = null, w(s, y);
    }), wn(s), we(s, 0);
  }
}
function we(e, t) {
  var n = e.deps;
  if (n !== null)
    for (var r = t; r < n.length; r++)
      Yn(e, n[r]);
}
function ae(e) {
  var t = e.f;
  if ((t & x) === 0) {
    w(e, b);
    var n = g;
    g = e;
    try {
      (t & (C | dt)) !== 0 ? Pn(e) : Qe(e), Nt(e);
      var r = It(e);
      e.teardown = typeof r == "function" ? r : null, e.wv = Pt;
      var i;
      ot && an && (e.f & y) !== 0 && e.deps;
    } finally {
      g = n;
    }
  }
}
function ee(e) {
  var t = e.f, n = (t & k) !== 0;
  if (v !== null && !F) {
    var r = g !== null && (g.f & x) !== 0;
    if (!r && (Y === null || !Y.has(e))) {
      var i = v.deps;
      if ((v.f & Oe) !== 0)
        e.rv < Q && (e.rv = Q, S === null && i !== null && i[T] === e ? T++ : S === null ? S = [e] : S.push(e));
      else {
        v.deps ??= [], ge.call(v.deps, e) || v.deps.push(e);
        var s = e.reactions;
        s === null ? e.reactions = [v] : ge.call(s, v) || s.push(v);
      }
    }
  }
  if (re && I.has(e))
    return I.get(e);
  if (n) {
    var u = (
      /** @type {Derived} */
      e
    );
    if (re) {
      var l = u.v;
      return ((u.f & b) === 0 && u.reactions !== null || Yt(u)) && (l = We(u)), I.set(u, l), l;
    }
    var f = (u.f & D) === 0 && !F && v !== null && (v.f & D) !== 0, a = (u.f & oe) === 0;
    be(u) && (f && (u.f |= D), mt(u)), f && !a && (bt(u), Lt(u));
  }
  if (N?.has(e))
    return N.get(e);
  if ((e.f & z) !== 0)
    throw e.v;
  return e.v;
}
function Lt(e) {
  if (e.f |= D, e.deps !== null)
    for (const n of e.deps) {
      var t = n.reactions;
      t === null ? n.reactions = [e] : ge.call(t, e) || t.push(e), (n.f & k) !== 0 && (n.f & D) === 0 && (bt(
        /** @type {Derived} */
        n
      ), Lt(
        /** @type {Derived} */
        n
      ));
    }
}
function Yt(e) {
  if (e.v === m) return !0;
  if (e.deps === null) return !1;
  for (const t of e.deps)
    if (I.has(t) || (t.f & k) !== 0 && Yt(
      /** @type {Derived} */
      t
    ))
      return !0;
  return !1;
}
function Bn(e) {
  var t = F;
  try {
    return F = !0, e();
  } finally {
    F = t;
  }
}
const Ee = /* @__PURE__ */ Symbol("events"), Un = /* @__PURE__ */ new Set(), ft = /* @__PURE__ */ new Set();
let Be = null, Ue = !1;
function ut(e) {
  var t = this, n = (
    /** @type {Node} */
    t.ownerDocument
  ), r = e.type, i = e.composedPath?.() || [], s = (
    /** @type {null | Element} */
    i[0] || e.target
  );
  Be = e, Ue || (Ue = !0, setTimeout(() => {
    Ue = !1, Be = null;
  }));
  var u = 0, l = Be === e && e[Ee];
  if (l) {
    var f = i.indexOf(l);
    if (f !== -1 && (t === document || t === /** @type {any} */
    window)) {
      e[Ee] = t;
      return;
    }
    var a = i.indexOf(t);
    if (a === -1)
      return;
    f <= a && (u = f);
  }
  if (s = /** @type {Element} */
  i[u] || e.target, s !== t) {
    ct(e, "currentTarget", {
      configurable: !0,
      get() {
        return s || n;
      }
    });
    var h = v, o = g;
    O(null), B(null);
    try {
      for (var d, c = []; s !== null && s !== t; ) {
        try {
          var _ = s[Ee]?.[r];
          _ != null && (!/** @type {any} */
          s.disabled || // DOM could've been updated already by the time this is reached, so we check this as well
          // -> the target could not have been disabled because it emits the event in the first place
          e.target === s) && _.call(s, e);
        } catch (E) {
          d ? c.push(E) : d = E;
        }
        if (e.cancelBubble) break;
        u++, s = u < i.length ? (
          /** @type {Element} */
          i[u]
        ) : null;
      }
      if (d) {
        for (let E of c)
          queueMicrotask(() => {
            throw E;
          });
        throw d;
      }
    } finally {
      e[Ee] = t, delete e.currentTarget, O(h), B(o);
    }
  }
}
const qn = ["touchstart", "touchmove"];
function Vn(e) {
  return qn.includes(e);
}
function Hn(e) {
  let t = 0, n = Me(0), r;
  return () => {
    Je() && (ee(n), Fn(() => (t === 0 && (r = Bn(() => e(() => pe(n)))), t += 1, () => {
      J(() => {
        t -= 1, t === 0 && (r?.(), r = void 0, pe(n));
      });
    })));
  };
}
var zn = Ae | ce;
function $n(e, t, n, r) {
  new Gn(e, t, n, r);
}
class Gn {
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
  #s;
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
  #i = null;
  #h = 0;
  #u = 0;
  #d = !1;
  /** @type {Map<Effect, number>} */
  #g = /* @__PURE__ */ new Map();
  /**
   * A source containing the number of pending async deriveds/expressions.
   * Only created if `$effect.pending()` is used inside the boundary,
   * otherwise updating the source results in needless `Batch.ensure()`
   * calls followed by no-op flushes
   * @type {Source<number> | null}
   */
  #a = null;
  #_ = Hn(() => (this.#a = Me(this.#h), () => {
    this.#a = null;
  }));
  /**
   * @param {TemplateNode} node
   * @param {BoundaryProps} props
   * @param {((anchor: Node) => void)} children
   * @param {((error: unknown) => unknown) | undefined} [transform_error]
   */
  constructor(t, n, r, i) {
    this.#s = t, this.#l = n, this.#f = (s) => {
      var u = (
        /** @type {Effect} */
        g
      );
      u.b = this, u.f |= qe, r(s);
    }, this.parent = /** @type {Effect} */
    g.b, this.transform_error = i ?? this.parent?.transform_error ?? ((s) => s), this.#t = Dn(() => {
      this.#m();
    }, zn);
  }
  #w() {
    try {
      this.#n = W(() => this.#f(this.#s));
    } catch (t) {
      this.error(t);
    }
  }
  /**
   * @param {unknown} error The deserialized error from the server's hydration comment
   */
  #E(t) {
    const n = this.#l.failed, { reset: r, invoke_onerror: i } = this.#y(t);
    J(i), n && (this.#e = W(() => {
      n(
        this.#s,
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
    const i = () => {
      if (!this.#o()) {
        if (n) {
          tn();
          return;
        }
        n = !0, r && un(), this.#e !== null && Se(this.#e, () => {
          this.#e = null;
        }), this.#b(() => {
          this.#m();
        });
      }
    };
    return { reset: i, invoke_onerror: () => {
      if (!this.#o())
        try {
          r = !0, this.#l.onerror?.(t, i), r = !1;
        } catch (u) {
          M(u, this.#t && this.#t.parent);
        }
    } };
  }
  #o() {
    return (this.#t.f & (x | Te)) !== 0;
  }
  #v() {
    const t = this.#l.pending;
    t && (this.is_pending = !0, this.#r = W(() => t(this.#s)), J(() => {
      if (!this.#o()) {
        var n = this.#i = document.createDocumentFragment(), r = Ot(), i = !1;
        if (n.append(r), this.#n = this.#b(() => {
          try {
            return W(() => this.#f(r));
          } catch (s) {
            try {
              this.error(s), i = !0;
            } catch (u) {
              M(u, this.#t.parent);
            }
            return null;
          }
        }), this.#n === null) {
          this.#i = null, i && this.#c(
            /** @type {Batch} */
            p
          );
          return;
        }
        this.#u === 0 && (this.#s.before(n), this.#i = null, Se(
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
      if (this.is_pending = this.has_pending_snippet(), this.#u = 0, this.#h = 0, this.#n = W(() => {
        this.#f(this.#s);
      }), this.#u > 0) {
        var t = this.#i = document.createDocumentFragment();
        jn(this.#n, t);
        const n = (
          /** @type {(anchor: Node) => void} */
          this.#l.pending
        );
        this.#r = W(() => n(this.#s));
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
    yt(t, this.#g);
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
  #b(t) {
    var n = g, r = v, i = P;
    B(this.#t), O(this.#t), ue(this.#t.ctx);
    try {
      return ne.ensure(), t();
    } finally {
      B(n), O(r), ue(i);
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
    this.#u += t, this.#u === 0 && (this.#c(n), this.#r && Se(this.#r, () => {
      this.#r = null;
    }), this.#i && (this.#s.before(this.#i), this.#i = null));
  }
  /**
   * Update the source that powers `$effect.pending()` inside this boundary,
   * and controls when the current `pending` snippet (if any) is removed.
   * Do not call from inside the class
   * @param {1 | -1} d
   * @param {Batch} batch
   */
  update_pending_count(t, n) {
    this.#k(t, n), this.#h += t, !(!this.#a || this.#d) && (this.#d = !0, J(() => {
      this.#d = !1, this.#a && Fe(this.#a, this.#h);
    }));
  }
  get_effect_pending() {
    return this.#_(), ee(
      /** @type {Source<number>} */
      this.#a
    );
  }
  /** @param {unknown} error */
  error(t) {
    if (t === at || !this.#l.onerror && !this.#l.failed)
      throw t;
    p?.is_fork ? (this.#n && p.skip_effect(this.#n), this.#r && p.skip_effect(this.#r), this.#e && p.skip_effect(this.#e), p.oncommit(() => {
      this.#o() || this.#x(t);
    })) : this.#x(t);
  }
  /**
   * @param {unknown} error
   */
  #x(t) {
    this.#n && (L(this.#n), this.#n = null), this.#r && (L(this.#r), this.#r = null), this.#e && (L(this.#e), this.#e = null);
    let n = this.#l.failed;
    const r = (i) => {
      if (this.#o()) return;
      const { reset: s, invoke_onerror: u } = this.#y(i);
      u(), n && !this.#o() && (this.#e = this.#b(() => {
        try {
          return W(() => {
            var l = (
              /** @type {Effect} */
              g
            );
            l.b = this, l.f |= qe, n(
              this.#s,
              () => i,
              () => s
            );
          });
        } catch (l) {
          return M(
            l,
            /** @type {Effect} */
            this.#t.parent
          ), null;
        }
      }));
    };
    J(() => {
      if (!this.#o()) {
        var i;
        try {
          i = this.transform_error(t);
        } catch (s) {
          M(s, this.#t && this.#t.parent);
          return;
        }
        i !== null && typeof i == "object" && typeof /** @type {any} */
        i.then == "function" ? i.then(
          r,
          /** @param {unknown} e */
          (s) => M(s, this.#t && this.#t.parent)
        ) : r(i);
      }
    });
  }
}
function er(e, t) {
  var n = t == null ? "" : typeof t == "object" ? `${t}` : t;
  n !== /** @type {any} */
  (e[Ve] ??= e.nodeValue) && (e[Ve] = n, e.nodeValue = `${n}`);
}
function tr(e, t) {
  return Kn(e, t);
}
const ke = /* @__PURE__ */ new Map();
function Kn(e, { target: t, anchor: n, props: r = {}, events: i, context: s, intro: u = !0, transformError: l }) {
  xn();
  var f = void 0, a = Cn(() => {
    var h = n ?? t.appendChild(Ot());
    $n(
      /** @type {TemplateNode} */
      h,
      {
        pending: () => {
        }
      },
      (c) => {
        on({});
        var _ = (
          /** @type {ComponentContext} */
          P
        );
        s && (_.c = s), i && (r.$$events = i), f = e(c, r) || pt(), cn();
      },
      l
    );
    var o = /* @__PURE__ */ new Set(), d = (c) => {
      for (var _ = 0; _ < c.length; _++) {
        var E = c[_];
        if (!o.has(E)) {
          o.add(E);
          var V = Vn(E);
          for (const je of [t, document]) {
            var U = ke.get(je);
            U === void 0 && (U = /* @__PURE__ */ new Map(), ke.set(je, U));
            var ie = U.get(E);
            ie === void 0 ? (je.addEventListener(E, ut, { passive: V }), U.set(E, 1)) : U.set(E, ie + 1);
          }
        }
      }
    };
    return d(qt(Un)), ft.add(d), () => {
      for (var c of o)
        for (const V of [t, document]) {
          var _ = (
            /** @type {Map<string, number>} */
            ke.get(V)
          ), E = (
            /** @type {number} */
            _.get(c)
          );
          --E == 0 ? (V.removeEventListener(c, ut), _.delete(c), _.size === 0 && ke.delete(V)) : _.set(c, E);
        }
      ft.delete(d), h !== n && h.parentNode?.removeChild(h);
    };
  });
  return Ge.set(f, a), f;
}
let Ge = /* @__PURE__ */ new WeakMap();
function nr(e, t) {
  const n = Ge.get(e);
  return n ? (Ge.delete(e), n(t)) : Promise.resolve();
}
export {
  Wn as T,
  g as a,
  on as b,
  Jn as c,
  Sn as g,
  kn as i,
  tr as m,
  Zn as o,
  cn as p,
  er as s,
  Qn as t,
  nr as u
};

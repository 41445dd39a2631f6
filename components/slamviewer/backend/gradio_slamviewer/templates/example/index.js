import { c as s, g as l, i, T as u, a as f, t as c, p as d, b as _, s as m, o as p } from "./render-CLRUS5c-.js";
const v = (
  // We gotta write it like this because after downleveling the pure comment may end up in the wrong location
  globalThis?.window?.trustedTypes && /* @__PURE__ */ globalThis.window.trustedTypes.createPolicy("svelte-trusted-html", {
    /** @param {string} html */
    createHTML: (e) => e
  })
);
function T(e) {
  return (
    /** @type {string} */
    v?.createHTML(e) ?? e
  );
}
function h(e) {
  var t = s("template");
  return t.innerHTML = T(e.replaceAll("<!>", "<!---->")), t.content;
}
function g(e, t) {
  var a = (
    /** @type {Effect} */
    f
  );
  a.nodes === null && (a.nodes = { start: e, end: t, a: null, t: null });
}
// @__NO_SIDE_EFFECTS__
function b(e, t) {
  var a = (t & u) !== 0, r, n = !e.startsWith("<!>");
  return () => {
    r === void 0 && (r = h(n ? e : "<!>" + e), r = /** @type {TemplateNode} */
    l(r));
    var o = (
      /** @type {TemplateNode} */
      a || i ? document.importNode(r, !0) : r.cloneNode(!0)
    );
    return g(o, o), o;
  };
}
function w(e, t) {
  e !== null && e.before(
    /** @type {Node} */
    t
  );
}
var x = /* @__PURE__ */ b("<div> </div>");
function E(e, t) {
  _(t, !0);
  var a = x(), r = p(a, !0);
  c((n) => m(r, n), [
    () => t.value?.viewports?.map((n) => n.label).join(" · ") ?? ""
  ]), w(e, a), d();
}
export {
  E as default
};

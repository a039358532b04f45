// The pages' repeated markup lives in their HTML, in <template> elements; scripts fill in copies.

/** A copy of the element inside <template id="`id`">, to fill in. */
export function cloneTemplate(id) {
  return document.getElementById(id).content.firstElementChild.cloneNode(true);
}

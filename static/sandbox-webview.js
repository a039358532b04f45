// The sandbox stand-in for Kard's hosted WebView: verifies its token, applies the theme, lists
// the user's offers (with working CTAs) and, when the map section is shown, asks the container
// for the device location (Kard's Location Message Passing Contract) to list nearby offers.
// Sandbox only, each offer also has "Make a test purchase", and "My rewards" lists what they earn.

import { bffPath, requestJson } from "./http.js";
import { cloneTemplate } from "./template.js";
import { formatMiles, milesBetween } from "./webview/geo.js";
import { applyTheme, decodeTheme, labelsOf, showMapOf } from "./webview/theme.js";

// The BFF answers for the Kard it is configured with: its embedded simulator or KARD_API_URL's.
const API = bffPath("/sandbox/webview/api");
const NEARBY_SHOWN = 12;
const $ = (id) => document.getElementById(id);

const query = new URLSearchParams(window.location.search);
const token = query.get("token") || "";
const theme = decodeTheme(query.get("theme"));

/** A request to this page's API, with the page's token. */
function api(path, { method = "GET" } = {}) {
  return requestJson(API + path, { method, token });
}

/** Set the text of the element matching `selector` in `node`, or remove it when there is none. */
function fill(node, selector, text) {
  const part = node.querySelector(selector);
  if (text) part.textContent = text;
  else part.remove();
}

function fail(message) {
  $("error-text").textContent = message;
  $("error").hidden = false;
  $("nearby").hidden = true;
  $("offers-section").hidden = true;
  $("rewards-section").hidden = true;
}

// ---- offers ----------------------------------------------------------------------------------

function rewardText(offer) {
  const { components = {}, userReward } = offer.attributes;
  if (components.baseReward) return components.baseReward;
  if (!userReward) return "";
  return userReward.type === "PERCENT"
    ? `${userReward.value}% cash back`
    : `$${Number(userReward.value).toFixed(2)} cash back`;
}

function offerCard(offer) {
  const { name, components = {} } = offer.attributes;
  const tags = [...(components.detailTags || []), ...(components.tags || [])];
  const titleId = `offer-${offer.id}-name`;
  const card = cloneTemplate("offer-template");
  card.dataset.offerId = offer.id;
  card.setAttribute("aria-labelledby", titleId);
  card.querySelector(".logo").textContent = name.slice(0, 1).toUpperCase();
  Object.assign(card.querySelector(".offer-name"), { id: titleId, textContent: name });
  card.querySelector(".reward").textContent = rewardText(offer);
  fill(card, ".boosted", components.boostedReward && `Boost to ${components.boostedReward}`);
  fill(card, ".short-description", components.shortDescription);
  const tagList = card.querySelector(".tags");
  const tag = tagList.firstElementChild; // the template's one tag: a copy for each of the offer's
  tagList.replaceChildren(...tags.map((text) => Object.assign(tag.cloneNode(), { textContent: text })));
  if (!tags.length) tagList.remove();
  const cta = components.cta;
  const action = cta?.action?.url?.split("/").pop();
  const button = card.querySelector("button.cta");
  if (cta && (action === "activate" || action === "boost")) {
    button.classList.add(String(cta.buttonStyle || "PRIMARY").toLowerCase());
    button.textContent = cta.buttonText;
    button.addEventListener("click", () => act(card, offer, action, button));
  } else {
    button.remove();
  }
  const buy = card.querySelector("button.purchase");
  buy.setAttribute("aria-describedby", titleId);
  buy.addEventListener("click", () => purchase(card, offer, buy));
  return card;
}

const dollars = (cents) => `$${(cents / 100).toFixed(2)}`;

async function purchase(card, offer, button) {
  button.disabled = true;
  button.setAttribute("aria-busy", "true");
  try {
    const body = await api(`/offers/${encodeURIComponent(offer.id)}/purchase`, { method: "POST" });
    const reward = body.meta?.reward;
    showCardNote(
      card,
      reward
        ? `Test purchase made: ${dollars(reward.userCents)} earned.`
        : "Test purchase made: it earns no reward (activate the offer first?).",
    );
    await loadRewards();
  } catch (error) {
    showCardError(card, `Could not make a test purchase: ${error.message}`);
  } finally {
    button.disabled = false;
    button.removeAttribute("aria-busy");
  }
}

/** Say what the card's last action did, replacing what it said before. */
function showCardNote(card, message) {
  showCardError(card, "");
  let note = card.querySelector(".card-note");
  if (!note) {
    note = cloneTemplate("card-note-template");
    card.append(note);
  }
  note.textContent = message;
}

async function act(card, offer, action, button) {
  button.disabled = true;
  button.setAttribute("aria-busy", "true");
  try {
    const body = await api(`/offers/${encodeURIComponent(offer.id)}/${action}`, { method: "POST" });
    const updated = (body.included || []).find((item) => item.id === offer.id);
    if (updated) {
      const fresh = offerCard(updated);
      card.replaceWith(fresh);
      (fresh.querySelector("button.cta") || fresh).focus?.();
    } else {
      button.disabled = false;
      showCardError(card, "");
    }
  } catch (error) {
    button.disabled = false;
    showCardError(card, `Could not ${action}: ${error.message}`);
  } finally {
    button.removeAttribute("aria-busy");
  }
}

/** Show the card's one error line (replacing the last one), or remove it when `message` is empty. */
function showCardError(card, message) {
  let line = card.querySelector(".card-error");
  if (!message) {
    line?.remove();
    return;
  }
  if (!line) {
    line = cloneTemplate("card-error-template");
    card.append(line);
  }
  line.textContent = message;
}

async function loadOffers() {
  const status = $("offers-status");
  try {
    const { data } = await api("/offers");
    $("offers").replaceChildren(...data.map(offerCard));
    status.textContent = data.length ? `${data.length} offers` : "No offers right now.";
    status.classList.toggle("visually-hidden", data.length > 0);
  } catch (error) {
    status.textContent = `Offers could not be loaded: ${error.message}`;
  }
}

// ---- my rewards ------------------------------------------------------------------------------

function rewardItem(reward, merchants) {
  const { commissionEarned, paidToIssuer } = reward.attributes;
  const item = cloneTemplate("reward-template");
  item.dataset.rewardId = reward.id;
  const merchant = merchants.get(reward.relationships.merchant.data.id) || "A merchant";
  item.querySelector(".reward-merchant").textContent = merchant;
  item.querySelector(".reward-amount").textContent = dollars(commissionEarned.user.value);
  item.querySelector(".reward-state").textContent =
    paidToIssuer === "PAID_IN_FULL" ? "Paid" : "Pending payout";
  return item;
}

async function loadRewards() {
  const status = $("rewards-status");
  try {
    const { data, included = [] } = await api("/rewards");
    const merchants = new Map(
      included.filter((item) => item.type === "merchant").map((item) => [item.id, item.attributes.name]),
    );
    $("rewards").replaceChildren(...data.map((reward) => rewardItem(reward, merchants)));
    status.textContent = data.length
      ? `${data.length} rewards`
      : "No rewards yet. Make a test purchase on an offer below.";
    status.classList.toggle("visually-hidden", data.length > 0);
  } catch (error) {
    status.textContent = `Rewards could not be loaded: ${error.message}`;
  }
}

// ---- nearby (location bridge) ----------------------------------------------------------------

function addressText({ street, city, state, zipCode }) {
  return [street, city, [state, zipCode].filter(Boolean).join(" ")].filter(Boolean).join(", ");
}

async function loadNearby(coords) {
  const status = $("nearby-status");
  status.textContent = "Finding offers near you…";
  const params = new URLSearchParams({
    "filter[latitude]": String(coords.latitude),
    "filter[longitude]": String(coords.longitude),
  });
  try {
    const body = await api(`/locations?${params}`);
    const offers = new Map((body.included || []).map((offer) => [offer.id, offer]));
    const items = body.data.slice(0, NEARBY_SHOWN).map((location) => {
      const { name, address, coordinates } = location.attributes;
      const miles = milesBetween(coords, coordinates);
      const offerNames = location.relationships.offers.data
        .map((ref) => offers.get(ref.id))
        .filter(Boolean)
        .map((offer) => `${offer.attributes.name}: ${rewardText(offer)}`);
      const item = cloneTemplate("location-template");
      Object.assign(item.dataset, { locationId: location.id, miles: miles.toFixed(3) });
      item.querySelector(".location-name").textContent = name;
      const distance = item.querySelector(".distance");
      distance.textContent = formatMiles(miles);
      distance.setAttribute("aria-label", `${miles.toFixed(1)} miles away`);
      item.querySelector(".address").textContent = addressText(address);
      fill(item, ".location-offers", offerNames.join(" · "));
      return item;
    });
    $("nearby-list").replaceChildren(...items);
    status.textContent = !items.length
      ? "No offers nearby."
      : `The ${items.length} nearest of ${body.data.length} places with offers within 10 miles.`;
  } catch (error) {
    status.textContent = `Nearby offers could not be loaded: ${error.message}`;
  }
}

function requestLocation() {
  const status = $("nearby-status");
  if (window.parent === window) {
    status.textContent = "Open this page inside your app to see offers near you.";
    return;
  }
  window.addEventListener("message", (event) => {
    // Only the container that embeds this page may answer.
    if (event.source !== window.parent) return;
    const message = event.data;
    if (message?.type === "LOCATION_RESPONSE" && message.payload?.ok) {
      const { latitude, longitude } = message.payload.coords || {};
      if (Number.isFinite(latitude) && Number.isFinite(longitude)) {
        loadNearby({ latitude, longitude });
      } else {
        status.textContent = "Your app sent a location we could not read.";
      }
    } else if (message?.type === "ERROR") {
      const reason = message.payload?.error || "unknown error";
      status.textContent = `Your location is unavailable (${reason}).`;
    }
  });
  // The request carries nothing secret: any container may receive it.
  window.parent.postMessage({ type: "REQUEST_LOCATION" }, "*");
}

// ---- start -----------------------------------------------------------------------------------

async function start() {
  applyTheme(theme);
  const labels = labelsOf(theme);
  $("rewards-title").textContent = labels.rewardsTitle;
  $("nearby-title").textContent = labels.nearbyOffersTitle;
  $("offers-title").textContent = labels.offersTitle;
  document.title = labels.rewardsTitle;

  if (!token) {
    fail("The link has no token.");
  } else {
    try {
      const me = await api("/me");
      document.body.dataset.userId = me.userId;
      $("offers-section").hidden = false;
      $("rewards-section").hidden = false;
      if (showMapOf(theme)) {
        $("nearby").hidden = false;
        requestLocation();
      }
      await Promise.all([loadOffers(), loadRewards()]);
    } catch (error) {
      fail(error.status === 401 ? "The link is invalid or has expired." : error.message);
    }
  }
  $("app").setAttribute("aria-busy", "false");
}

start();

// Distances for the nearby list.

const EARTH_RADIUS_MILES = 3958.8;
const radians = (degrees) => (degrees * Math.PI) / 180;

/** Great-circle distance in miles between two {latitude, longitude} points. */
export function milesBetween(a, b) {
  const dLat = radians(b.latitude - a.latitude);
  const dLon = radians(b.longitude - a.longitude);
  const h =
    Math.sin(dLat / 2) ** 2 +
    Math.cos(radians(a.latitude)) * Math.cos(radians(b.latitude)) * Math.sin(dLon / 2) ** 2;
  return 2 * EARTH_RADIUS_MILES * Math.asin(Math.sqrt(h));
}

export function formatMiles(miles) {
  return `${miles < 10 ? miles.toFixed(1) : Math.round(miles)} mi`;
}

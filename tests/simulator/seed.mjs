// Demo visitors the simulator starts with. Times are relative to start-up so
// "online" and "last seen" look plausible whenever the simulator runs.

const minutesAgo = (m) => new Date(Date.now() - m * 60_000).toISOString();

export function seedVisitors() {
  return [
    {
      short_id: "sAlice01", unique_id: "alice-1001", lookup_code: "4821", call_name: "Alice Martin",
      email: "alice@example.com", identities: ["alice@example.com"], tags: ["#VIP"],
      is_online: true, last_seen_at: minutesAgo(0), browser_name: "Chrome", device_name: "MacBook",
      device_type: "desktop", location_city: "London", ip_address: "203.0.113.10",
    },
    {
      short_id: "sAlice02", unique_id: "alice-10010", lookup_code: "4822", call_name: "Alicia Moreno",
      email: "alicia@example.org", identities: ["alicia@example.org"], tags: [],
      is_online: true, last_seen_at: minutesAgo(2), browser_name: "Edge", device_name: "Surface",
      device_type: "desktop", location_city: "Madrid", ip_address: "203.0.113.11",
    },
    {
      short_id: "sBob0002", unique_id: "bob-2002", lookup_code: "5930", call_name: "Bob Chen",
      email: "bob@example.com", identities: ["bob@example.com"], tags: [],
      is_online: false, last_seen_at: minutesAgo(90), browser_name: "Safari", device_name: "iPhone",
      device_type: "mobile", location_city: "Toronto", ip_address: "203.0.113.20",
    },
    {
      short_id: "sCarolDesk", unique_id: "carol-3003", lookup_code: "6142", call_name: "Carol Diaz",
      email: "carol@example.com", identities: ["carol@example.com"], tags: ["#BILLING"],
      is_online: true, last_seen_at: minutesAgo(1), browser_name: "Firefox", device_name: "Windows PC",
      device_type: "desktop", location_city: "Austin", ip_address: "203.0.113.30",
    },
    {
      short_id: "sCarolPhone", unique_id: "carol-3003", lookup_code: "6143", call_name: "Carol Diaz",
      email: "carol@example.com", identities: ["carol@example.com"], tags: ["#BILLING"],
      is_online: true, last_seen_at: minutesAgo(3), browser_name: "Chrome", device_name: "Pixel",
      device_type: "mobile", location_city: "Austin", ip_address: "203.0.113.31",
    },
    {
      short_id: "sDan0004", unique_id: null, lookup_code: "7164", call_name: null,
      email: null, identities: [], tags: [],
      is_online: true, last_seen_at: minutesAgo(5), browser_name: "Chrome", device_name: "Chromebook",
      device_type: "desktop", location_city: "Dublin", ip_address: "203.0.113.40",
    },
    {
      // Upscope says a uniqueId "can be a string or number": Erin's identifiers
      // and last-seen time come as JSON numbers (Unix seconds for the time).
      short_id: 50050, unique_id: 5005, lookup_code: 3907, call_name: "Erin Walsh",
      email: "erin@example.com", identities: ["erin@example.com"], tags: [],
      is_online: true, last_seen_at: Math.floor(Date.now() / 1000) - 240, browser_name: "Firefox", device_name: "ThinkPad",
      device_type: "desktop", location_city: "Cork", ip_address: "203.0.113.50",
    },
  ];
}

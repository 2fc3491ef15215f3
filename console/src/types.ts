// The API's bodies, as far as the console reads them (see the OpenAPI schema at /docs).

export interface LatLng {
  lat: number;
  lng: number;
}

export interface Distance {
  value: number;
  units: string;
}

export interface Altitude {
  value: number;
  reference?: string;
  units: string;
}

export interface Volume3D {
  outline_circle?: { center: LatLng; radius: Distance };
  outline_polygon?: { vertices: LatLng[] };
  outline_corridor?: { centerline: LatLng[]; width: Distance };
  outline_orbit?: { points: LatLng[]; width: Distance };
  altitude_lower?: Altitude;
  altitude_upper?: Altitude;
}

export interface Volume4D {
  volume: Volume3D;
  time_start?: { value: string };
  time_end?: { value: string };
}

export interface Notice {
  id: string;
  party: string;
  kind: string;
  volumes: Volume4D[];
  version: number;
  state: string;
  protected_site: boolean;
  received_at?: string;
  lead_time_s?: number;
  late?: boolean;
}

/** One side of a conflict; `{"hidden": true}` where disclosure withholds it. */
export interface ConflictSide {
  party?: string;
  notice?: string;
  hidden?: boolean;
  volume?: number;
  protected_site?: boolean;
}

export interface Slice {
  altitude?: { lower_m: number; upper_m: number };
  time_window?: { start: string; end: string };
  overlap?: GeoJSON.Geometry;
  grid?: boolean;
  min_distance_m?: number;
}

export interface Conflict {
  id: string;
  state: string;
  detected_at?: string;
  sides: ConflictSide[];
  slice?: Slice | null;
  /** `existence` disclosure: a coarse area and day instead of the slice. */
  disclosure?: string;
  area?: GeoJSON.Geometry;
  time_window?: { start: string; end: string };
}

export interface Me {
  party: string;
  role: string;
  coalition?: string | null;
}

/** One event of /v1/events, as its `data:` line carries it. */
export interface BrokerEvent {
  id: number;
  type: string;
  time: string;
  data: unknown;
}

/** An aircraft of a tactical alert; `hidden` (with a position) where its party is withheld, or
 * `{"hidden": true}` alone. */
export interface AlertAircraft {
  hidden?: boolean;
  party?: string;
  aircraft?: string;
  callsign?: string | null;
  lat?: number;
  lon?: number;
  alt_m?: number;
  alt_ref?: string;
}

export interface Alert {
  id: string;
  kind: string;
  severity: string;
  state: string;
  detected_at: string;
  sides: AlertAircraft[];
  volume?: { party?: string; notice?: string; hidden?: boolean } | null;
  geometry?: Record<string, number | boolean | null> | null;
}

/** A recipient of a hotline message; `party` null where disclosure does not name it to you. */
export interface Recipient {
  party: string | null;
  state: "pending" | "received" | "understood";
  deadline: string | null;
  received_at: string | null;
  understood_at: string | null;
  escalations: number;
  standing: "open" | "on-time" | "late" | "overdue" | "no-deadline";
}

export interface Message {
  id: string;
  thread_id: string;
  in_reply_to: string | null;
  from: string | null;
  to: Recipient[];
  subject: string;
  text: string;
  priority: string;
  ref: { kind: string; id: string } | null;
  auto: boolean;
  sent_at: string;
  relayed: boolean;
}

export interface Policy {
  separation: { horizontal_m: number; vertical_m: number; time_s: number };
  notice: { min_notice_s: number };
}

export interface PartyFigures {
  party: string;
  notices_filed: number;
  lead_time_median_s: number | null;
  lead_time_p10_s: number | null;
  late_notices: number;
  conflicts: number;
  acknowledgements: { on_time: number; late: number; missing: number; pending: number; median_time_to_ack_s: number | null };
  nonconformance_minutes: number;
  incursion_minutes: number;
}

export interface ComplianceReport {
  report: { since: string; until: string; min_notice_s: number; parties: PartyFigures[] };
  report_sha256: string;
  log: { seq: number; hash: string; as_of_seq: number };
}

/** One of your aircraft as `/v1/tracks/live` (and `GET /v1/tracks`) gives it. */
export interface LiveTrack {
  party: string;
  aircraft: string;
  callsign: string | null;
  time: string;
  lat: number;
  lon: number;
  alt_m: number;
  alt_ref: string;
}

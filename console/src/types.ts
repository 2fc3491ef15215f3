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

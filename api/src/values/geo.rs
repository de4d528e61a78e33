//! Places on the Earth and the distances between them: merchants near me, patrol points,
//! activities' check-in.
use crate::error::{AppError, AppResult};

const EARTH_RADIUS_METERS: f64 = 6_371_008.8;
/// A little under the true ~111.2 km, so the box errs on the large side.
const METERS_PER_DEGREE_LATITUDE: f64 = 111_000.0;

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Point {
    pub latitude: f64,
    pub longitude: f64,
}

impl Point {
    /// A place as the mini-program sends it (wx.getLocation), refused when it is none.
    pub fn parse(latitude: f64, longitude: f64) -> AppResult<Point> {
        let point = Point {
            latitude,
            longitude,
        };
        if point.is_valid() {
            Ok(point)
        } else {
            Err(AppError::bad_input("not a place on Earth"))
        }
    }

    pub fn is_valid(self) -> bool {
        (-90.0..=90.0).contains(&self.latitude) && (-180.0..=180.0).contains(&self.longitude)
    }
}

/// Great-circle distance (haversine).
pub fn distance_meters(a: Point, b: Point) -> f64 {
    let (lat1, lat2) = (a.latitude.to_radians(), b.latitude.to_radians());
    let d_lat = lat2 - lat1;
    let d_lon = (b.longitude - a.longitude).to_radians();
    let h = (d_lat / 2.0).sin().powi(2) + lat1.cos() * lat2.cos() * (d_lon / 2.0).sin().powi(2);
    2.0 * EARTH_RADIUS_METERS * h.sqrt().asin()
}

/// (min, max) latitude and longitude of a box that contains the circle: an index-friendly
/// pre-filter before the exact distance.
pub fn bounding_box(center: Point, radius_meters: f64) -> ((f64, f64), (f64, f64)) {
    let d_lat = radius_meters / METERS_PER_DEGREE_LATITUDE;
    let cos = center.latitude.to_radians().cos().max(0.01);
    let d_lon = radius_meters / (METERS_PER_DEGREE_LATITUDE * cos);
    (
        (center.latitude - d_lat, center.latitude + d_lat),
        (center.longitude - d_lon, center.longitude + d_lon),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const QUANCHENG_SQUARE: Point = Point {
        latitude: 36.6616,
        longitude: 117.0217,
    };
    const BAOTU_SPRING: Point = Point {
        latitude: 36.6596,
        longitude: 117.0127,
    };

    #[test]
    fn known_distances() {
        let d = distance_meters(QUANCHENG_SQUARE, BAOTU_SPRING);
        assert!((800.0..850.0).contains(&d), "{d}");
        assert_eq!(distance_meters(BAOTU_SPRING, BAOTU_SPRING), 0.0);
        // One degree of latitude is about 111 km.
        let north = Point {
            latitude: 37.6616,
            ..QUANCHENG_SQUARE
        };
        assert!((111_000.0..111_400.0).contains(&distance_meters(QUANCHENG_SQUARE, north)));
    }

    #[test]
    fn the_bounding_box_contains_the_circle() {
        let ((lat_min, lat_max), (lon_min, lon_max)) = bounding_box(QUANCHENG_SQUARE, 1000.0);
        for (lat, lon) in [
            (lat_min, QUANCHENG_SQUARE.longitude),
            (QUANCHENG_SQUARE.latitude, lon_max),
        ] {
            let edge = distance_meters(
                QUANCHENG_SQUARE,
                Point {
                    latitude: lat,
                    longitude: lon,
                },
            );
            assert!(edge >= 999.0, "{edge}");
        }
        assert!(lat_max > lat_min && lon_max > lon_min);
    }
}

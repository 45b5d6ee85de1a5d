//! The typed parse of the receipt bench's three bodies, over serde_json and over sonic-rs.

use criterion::{Criterion, criterion_group, criterion_main};
use json_parsers::{fixture, serde_json_parse, sonic_rs_parse};
use std::hint::black_box;

fn parsers(c: &mut Criterion) {
    for name in ["text.json", "mixed_batch.json", "batch_100_statuses.json"] {
        let body = fixture(name);
        assert_eq!(sonic_rs_parse(&body), serde_json_parse(&body), "{name}");
        let mut group = c.benchmark_group(name);
        group.bench_function("serde_json", |b| {
            b.iter(|| serde_json_parse(black_box(&body)))
        });
        group.bench_function("sonic_rs", |b| b.iter(|| sonic_rs_parse(black_box(&body))));
        group.finish();
    }
}

criterion_group!(benches, parsers);
criterion_main!(benches);

//! Metrics (Envoy: ids carry the type in the low two bits; a name defined twice shares one stat).

use super::memory::{read_string, status, write_u32, write_u64};
use super::table::{Hostcalls, Res, C};
use crate::abi::{MetricType, Status};
use crate::state::MetricValue;

const METRIC_TYPE_MASK: u32 = 0x3;
const METRIC_INCREMENT: u32 = 0x4;

pub(super) fn define(env: &mut Hostcalls<'_>) -> Res<()> {
    env.add("proxy_define_metric", define_metric)?
        .add("proxy_increment_metric", increment)?
        .add("proxy_record_metric", record)?
        .add("proxy_get_metric", get)?;
    Ok(())
}

fn define_metric(
    caller: &mut C<'_>,
    metric_type: i32,
    name_ptr: i32,
    name_size: i32,
    id_ptr: i32,
) -> i32 {
    let Some(kind) = MetricType::from_raw(metric_type) else {
        return Status::BadArgument.code();
    };
    let Some(name) = read_string(caller, name_ptr, name_size) else {
        return Status::InvalidMemoryAccess.code();
    };
    let metrics = &mut caller.data_mut().metrics;
    metrics.next += METRIC_INCREMENT;
    let id = metrics.next | metric_type as u32;
    metrics.ids.insert(id, (kind, name.clone()));
    metrics.values.entry(name).or_insert(match kind {
        MetricType::Counter => MetricValue::Counter(0),
        MetricType::Gauge => MetricValue::Gauge(0),
        MetricType::Histogram => MetricValue::Histogram(Vec::new()),
    });
    status(write_u32(caller, id_ptr, id))
}

fn increment(caller: &mut C<'_>, id: i32, delta: i64) -> i32 {
    let metrics = &mut caller.data_mut().metrics;
    let id = id as u32;
    let Some((kind, name)) = metrics.ids.get(&id).cloned() else {
        return match id & METRIC_TYPE_MASK {
            0 | 1 => Status::NotFound.code(),
            _ => Status::BadArgument.code(),
        };
    };
    let Some(value) = metrics.values.get_mut(&name) else {
        return Status::NotFound.code();
    };
    match (kind, value) {
        (MetricType::Counter, MetricValue::Counter(v)) => {
            if delta > 0 {
                *v += delta as u64;
                Status::Ok.code()
            } else {
                Status::BadArgument.code()
            }
        }
        (MetricType::Gauge, MetricValue::Gauge(v)) => {
            *v += delta;
            Status::Ok.code()
        }
        _ => Status::BadArgument.code(),
    }
}

fn record(caller: &mut C<'_>, id: i32, value: i64) -> i32 {
    let metrics = &mut caller.data_mut().metrics;
    let Some((_, name)) = metrics.ids.get(&(id as u32)).cloned() else {
        return Status::NotFound.code();
    };
    match metrics.values.get_mut(&name) {
        Some(MetricValue::Counter(v)) => *v += value as u64,
        Some(MetricValue::Gauge(v)) => *v = value,
        Some(MetricValue::Histogram(v)) => v.push(value as u64),
        None => return Status::NotFound.code(),
    }
    Status::Ok.code()
}

fn get(caller: &mut C<'_>, id: i32, value_ptr: i32) -> i32 {
    let metrics = &caller.data().metrics;
    let Some((_, name)) = metrics.ids.get(&(id as u32)) else {
        return Status::NotFound.code();
    };
    let value = match metrics.values.get(name) {
        Some(MetricValue::Counter(v)) => *v,
        Some(MetricValue::Gauge(v)) => *v as u64,
        Some(MetricValue::Histogram(_)) => return Status::BadArgument.code(),
        None => return Status::NotFound.code(),
    };
    status(write_u64(caller, value_ptr, value))
}

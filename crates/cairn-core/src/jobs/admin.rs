//! The jobs dashboard's services: what Site Administrators and Managers see
//! of the queue, and what they may do to a job. Nobody else learns that a
//! job exists, let alone its arguments (which name content).

use super::{Job, JobFilter, QueueCount, Schedule, now_ms};
use crate::error::{CoreError, CoreResult};
use crate::security::Principal;
use crate::site::Site;

/// The queue at a glance, and one page of jobs.
#[derive(Debug)]
pub struct Overview {
    pub counts: Vec<QueueCount>,
    pub schedules: Vec<Schedule>,
    pub jobs: Vec<Job>,
    pub total: usize,
}

fn require_admin(who: &Principal) -> CoreResult<()> {
    if who.is_admin() {
        Ok(())
    } else {
        Err(CoreError::Unauthorized(
            "You are not allowed to see or manage background jobs".into(),
        ))
    }
}

pub fn overview(site: &Site, who: &Principal, filter: &JobFilter) -> CoreResult<Overview> {
    require_admin(who)?;
    let (jobs, total) = site.jobs.jobs(&site.id, filter)?;
    Ok(Overview {
        counts: site.jobs.counts(&site.id, now_ms())?,
        schedules: site.jobs.schedules(&site.id)?,
        jobs,
        total,
    })
}

pub fn job(site: &Site, who: &Principal, id: i64) -> CoreResult<Job> {
    require_admin(who)?;
    site.jobs.job(&site.id, id)?.ok_or(CoreError::NotFound)
}

/// Cancels a queued or running job (a running one ends its attempt, and
/// its outcome is not recorded).
pub fn cancel(site: &Site, who: &Principal, id: i64) -> CoreResult<Job> {
    let job = self::job(site, who, id)?;
    if !site.jobs.cancel(&site.id, id, now_ms())? {
        return Err(CoreError::BadRequest(format!(
            "Job {id} is {}: only queued or running jobs can be cancelled",
            job.state.name()
        )));
    }
    self::job(site, who, id)
}

/// Queues a dead or cancelled job again, with a fresh set of attempts.
pub fn retry(site: &Site, who: &Principal, id: i64) -> CoreResult<Job> {
    let job = self::job(site, who, id)?;
    if !site.jobs.retry(&site.id, id, now_ms())? {
        return Err(CoreError::BadRequest(format!(
            "Job {id} is {}: only dead or cancelled jobs can be retried",
            job.state.name()
        )));
    }
    self::job(site, who, id)
}

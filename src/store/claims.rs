//! A job attempt's claim: the right to record the job's outcome. Jobs are
//! run by workers (see `jobs`); the store checks the claim in the same
//! transaction that writes a job's outputs, so outputs become assets once.

use serde_json::Value;

use crate::error::Result;

tokio::task_local! {
    /// The job whose work runs in this task: assets stored inside it are
    /// marked as made by it (see [`super::Store::delete_job_outputs`]).
    pub static MADE_BY_JOB: String;
}

/// One attempt's right to finish job `job_id`.
#[derive(Clone, Debug)]
pub struct JobClaim {
    pub job_id: String,
    pub claim: String,
}

impl JobClaim {
    /// Records the job's final `status` with its result or error, if the job
    /// is still running under this claim; false when it is not (another
    /// attempt took it over, or it was already finished).
    pub async fn record<'c, E>(
        &self,
        db: E,
        status: &str,
        result: Option<&Value>,
        error: Option<&Value>,
    ) -> Result<bool>
    where
        E: sqlx::Executor<'c, Database = sqlx::Any>,
    {
        let progress = if status == "succeeded" {
            "1"
        } else {
            "progress"
        };
        let sql = format!(
            "UPDATE jobs SET status = $1, progress = {progress}, result = $2, error = $3, updated_at = $4 \
             WHERE id = $5 AND claim = $6 AND status = 'running'"
        );
        let done = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(status)
            .bind(result.map(Value::to_string))
            .bind(error.map(Value::to_string))
            .bind(chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true))
            .bind(&self.job_id)
            .bind(&self.claim)
            .execute(db)
            .await?;
        Ok(done.rows_affected() == 1)
    }
}

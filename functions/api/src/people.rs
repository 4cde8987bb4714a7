//! People routes: create a person with contact points, read one.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use schoolbell::domain::{Person, PersonInput};
use schoolbell::http::{ApiError, Caller, JsonBody};

use crate::ApiState;

pub(crate) async fn create_person(
    State(state): State<ApiState>,
    Caller(caller): Caller,
    JsonBody(input): JsonBody<PersonInput>,
) -> Result<(StatusCode, Json<Person>), ApiError> {
    let person = state.people.create(&caller, &input).await?;
    Ok((StatusCode::CREATED, Json(person)))
}

pub(crate) async fn get_person(
    State(state): State<ApiState>,
    Caller(caller): Caller,
    Path(id): Path<String>,
) -> Result<Json<Person>, ApiError> {
    Ok(Json(state.people.get(&caller, &id).await?))
}

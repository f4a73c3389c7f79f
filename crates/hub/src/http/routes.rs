//! `Routes`: an axum router that remembers what it serves. Each area declares its routes once
//! (`router()` in its module); the router, the route table that the tenancy tests walk, and, for
//! the Partner API, the OpenAPI operations (`api::router`, through utoipa-axum) all come from
//! that declaration.

use crate::state::AppState;
use axum::Router;
use axum::handler::Handler;
use axum::http::Method;
use axum::routing::{MethodFilter, MethodRouter, on};

/// One method on one path, as declared (`{name}` marks a path parameter).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Route {
    pub method: Method,
    pub path: String,
}

/// A router and the table of its routes.
#[derive(Debug, Default)]
pub struct Routes {
    router: Router<AppState>,
    table: Vec<Route>,
}

fn filter(method: &Method) -> MethodFilter {
    match *method {
        Method::POST => MethodFilter::POST,
        Method::PUT => MethodFilter::PUT,
        Method::PATCH => MethodFilter::PATCH,
        Method::DELETE => MethodFilter::DELETE,
        _ => MethodFilter::GET,
    }
}

impl Routes {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn get<H: Handler<T, AppState>, T: 'static>(self, path: &str, handler: H) -> Self {
        self.method(Method::GET, path, handler)
    }

    pub fn post<H: Handler<T, AppState>, T: 'static>(self, path: &str, handler: H) -> Self {
        self.method(Method::POST, path, handler)
    }

    pub fn method<H: Handler<T, AppState>, T: 'static>(
        self,
        method: Method,
        path: &str,
        handler: H,
    ) -> Self {
        let service = on(filter(&method), handler);
        self.service(&[method], path, service)
    }

    /// Routes whose method router is built by hand (e.g. with its own body limit); `methods`
    /// names what it serves.
    pub fn service(
        mut self,
        methods: &[Method],
        path: &str,
        service: MethodRouter<AppState>,
    ) -> Self {
        // axum merges method routers declared for the same path.
        self.router = self.router.route(path, service);
        self.table.extend(methods.iter().map(|method| Route {
            method: method.clone(),
            path: path.to_owned(),
        }));
        self
    }

    pub fn merge(mut self, other: Routes) -> Self {
        self.router = self.router.merge(other.router);
        self.table.extend(other.table);
        self
    }

    pub fn nest(mut self, prefix: &str, other: Routes) -> Self {
        self.router = self.router.nest(prefix, other.router);
        self.table
            .extend(other.table.into_iter().map(|route| Route {
                method: route.method,
                path: format!("{prefix}{}", route.path),
            }));
        self
    }

    /// What answers a path none of the routes match (within a nested router: under its prefix).
    pub fn fallback<H: Handler<T, AppState>, T: 'static>(mut self, handler: H) -> Self {
        self.router = self.router.fallback(handler);
        self
    }

    /// A router built elsewhere (the Partner API's, from its OpenAPI operations) and its table.
    pub fn from_parts(router: Router<AppState>, table: Vec<Route>) -> Self {
        Self { router, table }
    }

    pub fn table(&self) -> &[Route] {
        &self.table
    }

    pub fn into_parts(self) -> (Router<AppState>, Vec<Route>) {
        (self.router, self.table)
    }
}

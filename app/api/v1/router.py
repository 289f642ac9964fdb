from fastapi import APIRouter

from app.api.v1.endpoints import attendance, auth, feed, sessions, users, webhooks

api_router = APIRouter(prefix="/api/v1")
api_router.include_router(auth.router)
api_router.include_router(users.router)
api_router.include_router(sessions.router)
api_router.include_router(feed.router)
api_router.include_router(attendance.router)
api_router.include_router(webhooks.router)

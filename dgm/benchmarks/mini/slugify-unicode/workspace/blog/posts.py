"""The post index: titles in, permalinks out."""

from __future__ import annotations

from dataclasses import dataclass, field

from blog.slug import unique_slug


@dataclass
class Post:
    title: str
    body: str
    slug: str = ""


@dataclass
class Blog:
    base_url: str
    posts: dict[str, Post] = field(default_factory=dict)

    def publish(self, title: str, body: str) -> Post:
        post = Post(title=title, body=body, slug=unique_slug(title, set(self.posts)))
        self.posts[post.slug] = post
        return post

    def permalink(self, post: Post) -> str:
        return f"{self.base_url.rstrip('/')}/posts/{post.slug}/"

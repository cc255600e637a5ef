//! User-Agent (RFC 3261 §20.41) and Server (§20.35): products and comments.

use crate::error::Fault;
use crate::parse::{comment, is_lws, sws, token};
use std::fmt;

/// One item of a User-Agent / Server value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProductItem<'a> {
    /// `name[/version]`.
    Product {
        /// product name.
        name: &'a str,
        /// product-version.
        version: Option<&'a str>,
    },
    /// `(comment)`, parentheses included.
    Comment(&'a str),
}

/// A validated User-Agent / Server value; iterate it for the items.
#[derive(Debug, Clone, Copy)]
pub struct Product<'a>(&'a str);

fn item(i: &str) -> Result<(&str, ProductItem<'_>), Fault> {
    if i.starts_with('(') {
        let (r, c) = comment(i)?;
        return Ok((r, ProductItem::Comment(c)));
    }
    let (r, name) = token(i).map_err(|_| Fault::at("bad product token", i))?;
    let t = sws(r);
    if let Some(v) = t.strip_prefix('/') {
        let v = sws(v);
        let (r, version) = token(v).map_err(|_| Fault::at("bad product-version", v))?;
        return Ok((
            r,
            ProductItem::Product {
                name,
                version: Some(version),
            },
        ));
    }
    Ok((
        r,
        ProductItem::Product {
            name,
            version: None,
        },
    ))
}

impl<'a> Product<'a> {
    /// Validates `server-val *(LWS server-val)`.
    pub(crate) fn parse(s: &'a str) -> Result<Product<'a>, Fault> {
        let mut i = s;
        loop {
            let (r, _) = item(i)?;
            if r.is_empty() {
                return Ok(Product(s));
            }
            if !r.starts_with(is_lws) && !r.starts_with('(') {
                return Err(Fault::at("expected white space between products", r));
            }
            i = sws(r);
            if i.is_empty() {
                return Ok(Product(s));
            }
        }
    }

    /// The items in order.
    pub fn iter(&self) -> impl Iterator<Item = ProductItem<'a>> + 'a {
        let mut rest = self.0;
        std::iter::from_fn(move || {
            let i = sws(rest);
            if i.is_empty() {
                return None;
            }
            let (r, it) = item(i).ok()?;
            rest = r;
            Some(it)
        })
    }
}

impl PartialEq for Product<'_> {
    fn eq(&self, o: &Self) -> bool {
        self.iter().eq(o.iter())
    }
}

impl Eq for Product<'_> {}

impl fmt::Display for Product<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (k, it) in self.iter().enumerate() {
            if k > 0 {
                f.write_str(" ")?;
            }
            match it {
                ProductItem::Product {
                    name,
                    version: Some(v),
                } => write!(f, "{name}/{v}")?,
                ProductItem::Product {
                    name,
                    version: None,
                } => f.write_str(name)?,
                ProductItem::Comment(c) => f.write_str(c)?,
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn products() {
        let p = Product::parse("tipring/0.1 (linux; arm) libfoo").unwrap();
        let v: Vec<_> = p.iter().collect();
        assert_eq!(v.len(), 3);
        assert_eq!(v[1], ProductItem::Comment("(linux; arm)"));
        assert!(Product::parse("a/").is_err());
        assert!(Product::parse("(open").is_err());
    }
}

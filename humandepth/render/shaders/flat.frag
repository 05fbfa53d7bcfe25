#version 330 core
// humandepth face-id pass: writes (triangle index within the draw call + the mesh's first global id + 1)
// as a 24-bit RGB colour.  The mesh's first global id arrives in material.base_color_factor.r (an integer
// below 2^24, exact in float32).  No lighting, no blending, no multisampling.
struct Material {
    vec3 emissive_factor;
    vec4 base_color_factor;
    float metallic_factor;
    float roughness_factor;
};
uniform Material material;
out vec4 frag_color;
void main()
{
    uint id = uint(material.base_color_factor.r + 0.5) + uint(gl_PrimitiveID) + 1u;
    frag_color = vec4(float(id & 255u), float((id >> 8u) & 255u), float((id >> 16u) & 255u), 255.0) / 255.0;
}
